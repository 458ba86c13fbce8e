"""The checks themselves: network only, no database. `run(monitor)` never raises; it returns
an Outcome whose `error` says in a few words what failed.

Every check has a total deadline (the monitor's timeout). When VIGIL_MONITOR_ALLOW_PRIVATE=0,
the target's name is resolved and refused if any address is not a public one; then TCP checks
connect to the very address that was checked, and HTTP checks check the address of each socket
they open again before sending a byte on it (so a name that changes its answer in between, DNS
rebinding, gains nothing).
"""

import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import dns.exception
import dns.resolver
import requests
import urllib3
from cryptography import x509
from django.conf import settings
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# Skipping verification is the monitor's own setting (verify_tls), not something to warn about.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

MAX_BODY = 1024 * 1024  # read at most this much of a response (keyword search)
MAX_REDIRECTS = 10
USER_AGENT = "Vigil-Monitor/1 (+uptime check)"
STATUS_PART = re.compile(r"^(?:(\d{3})(?:-(\d{3}))?|([1-5])xx)$")


class CheckFailed(Exception):
    pass


@dataclass
class Outcome:
    ok: bool
    latency_ms: float | None = None
    error: str = ""
    status_code: int | None = None
    tls_expires_at: datetime | None = None


def parse_statuses(spec):
    """'200-299, 301, 3xx' -> [(200, 299), (301, 301), (300, 399)]; ValueError naming the bad part."""
    ranges = []
    for part in (p.strip() for p in spec.split(",")):
        match = STATUS_PART.match(part.lower())
        if not match:
            raise ValueError(f"{part!r} is not a status code, a range like 200-299 or a class like 2xx")
        if match.group(3):
            low = int(match.group(3)) * 100
            ranges.append((low, low + 99))
        else:
            low, high = int(match.group(1)), int(match.group(2) or match.group(1))
            if not 100 <= low <= high <= 599:
                raise ValueError(f"{part!r} is not a range of status codes between 100 and 599")
            ranges.append((low, high))
    return ranges


def split_host_port(target, default_port=None):
    """'host:port', '[v6]:port' or (with a default port) 'host' -> (host, port); ValueError if not."""
    target = target.strip()
    match = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(\d+))?|([^\s:/\[\]]+)(?::(\d+))?|([0-9a-fA-F:]+)", target)
    if not match:
        raise ValueError("must be host:port")
    host = match.group(1) or match.group(3) or match.group(5)
    port = match.group(2) or match.group(4)
    if match.group(5):  # a bare IPv6 address
        ipaddress.IPv6Address(host)
    if port is None:
        if default_port is None:
            raise ValueError("needs a port: host:port")
        port = default_port
    port = int(port)
    if not 1 <= port <= 65535:
        raise ValueError("the port must be between 1 and 65535")
    return host, port


def is_public(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global


def resolve(host, port, deadline):
    """The addresses to connect to, refused when private ones are not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise CheckFailed(f"cannot resolve {host}: {e.strerror}") from None
    if time.monotonic() > deadline:
        raise CheckFailed("timed out resolving the name")
    addresses = list(dict.fromkeys(info[4] for info in infos))
    if not settings.MONITOR_ALLOW_PRIVATE:
        for address in addresses:
            if not is_public(address[0]):
                raise CheckFailed(f"{host} resolves to {address[0]}, a private address (not allowed here)")
    return addresses


def run(monitor):
    deadline = time.monotonic() + monitor.timeout_seconds
    started = time.perf_counter()
    try:
        outcome = CHECKS[monitor.kind](monitor, deadline)
    except CheckFailed as e:
        outcome = Outcome(ok=False, error=str(e))
    except Exception as e:  # a check must report, never take the worker down
        outcome = Outcome(ok=False, error=f"check failed: {type(e).__name__}: {e}")
    if outcome.latency_ms is None and outcome.ok:
        outcome.latency_ms = (time.perf_counter() - started) * 1000
    outcome.error = outcome.error[:500]
    return outcome


# --- TCP and ping -----------------------------------------------------------------------------------

def tcp_connect(host, port, deadline):
    """Connect to the first address that answers; the connect time in ms."""
    last = None
    for address in resolve(host, port, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        started = time.perf_counter()
        try:
            with socket.socket(socket.AF_INET6 if ":" in address[0] else socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.settimeout(remaining)
                sock.connect(address)
            return (time.perf_counter() - started) * 1000
        except TimeoutError:
            last = "timed out"
        except OSError as e:
            last = (e.strerror or str(e)).lower()
    raise CheckFailed(f"cannot connect to {host}:{port}: {last or 'timed out'}")


def check_tcp(monitor, deadline):
    host, port = split_host_port(monitor.target)
    return Outcome(ok=True, latency_ms=tcp_connect(host, port, deadline))


def check_ping(monitor, deadline):
    host, port = split_host_port(monitor.target, default_port=80)
    return Outcome(ok=True, latency_ms=tcp_connect(host, port, deadline))


# --- DNS ---------------------------------------------------------------------------------------------

def _record_text(rdata, record_type):
    if record_type in ("A", "AAAA"):
        return rdata.address
    if record_type in ("CNAME", "NS"):
        return rdata.target.to_text(omit_final_dot=True)
    if record_type == "MX":
        return rdata.exchange.to_text(omit_final_dot=True)
    return b"".join(rdata.strings).decode(errors="replace")


def check_dns(monitor, deadline):
    resolver = dns.resolver.Resolver(configure=not monitor.nameserver)
    if monitor.nameserver:
        host, port = split_host_port(monitor.nameserver, default_port=53)
        if not settings.MONITOR_ALLOW_PRIVATE and not is_public(host):
            raise CheckFailed(f"nameserver {host} is a private address (not allowed here)")
        resolver.nameservers, resolver.port = [host], port
    resolver.lifetime = max(0.1, deadline - time.monotonic())
    started = time.perf_counter()
    try:
        answer = resolver.resolve(monitor.target, monitor.record_type, search=False)
    except dns.resolver.NXDOMAIN:
        raise CheckFailed(f"{monitor.target}: no such name (NXDOMAIN)") from None
    except dns.resolver.NoAnswer:
        raise CheckFailed(f"{monitor.target} has no {monitor.record_type} record") from None
    except dns.exception.Timeout:
        raise CheckFailed(f"no answer from the resolver within {monitor.timeout_seconds} s") from None
    except dns.resolver.NoNameservers as e:
        raise CheckFailed(f"every nameserver failed: {e}") from None
    latency = (time.perf_counter() - started) * 1000
    records = sorted(_record_text(r, monitor.record_type) for r in answer)  # resolvers rotate the order
    if monitor.expected_answer:
        want = monitor.expected_answer.strip().rstrip(".").lower()
        if want not in (r.rstrip(".").lower() for r in records):
            return Outcome(ok=False, latency_ms=latency,
                           error=f"{want} is not among the {monitor.record_type} records: {', '.join(records)[:300]}")
    return Outcome(ok=True, latency_ms=latency)


# --- HTTP(S) -----------------------------------------------------------------------------------------

class _Guarded:
    """A urllib3 connection that refuses private peers (when configured) before sending anything,
    and, for HTTPS, keeps the peer's certificate for the expiry warning."""

    peer_cert = None

    def _new_conn(self):
        sock = super()._new_conn()
        peer = sock.getpeername()[0]
        if not settings.MONITOR_ALLOW_PRIVATE and not is_public(peer):
            sock.close()
            raise CheckFailed(f"{self.host} connected to {peer}, a private address (not allowed here)")
        return sock


class _GuardedHTTP(_Guarded, HTTPConnection):
    pass


class _GuardedHTTPS(_Guarded, HTTPSConnection):
    def connect(self):
        super().connect()
        # The DER form is there even without verification (the dict form is then empty).
        self.peer_cert = self.sock.getpeercert(binary_form=True)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTP


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPS


class _GuardedAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


def _tls_expiry(response):
    der = getattr(getattr(response.raw, "connection", None), "peer_cert", None)
    return x509.load_der_x509_certificate(der).not_valid_after_utc if der else None


def _request_error(e, monitor):
    if isinstance(e, requests.exceptions.SSLError):
        reason = str(e)
        found = re.search(r"\[SSL[^\]]*\] ([^(')]+)", reason)
        return f"TLS error: {found.group(1).strip() if found else reason[:200]}"
    if isinstance(e, requests.exceptions.Timeout):
        return f"timed out after {monitor.timeout_seconds} s"
    if isinstance(e, requests.exceptions.ConnectionError):
        text = str(e)
        for known in ("Connection refused", "Name or service not known", "No route to host", "Connection reset",
                      "Remote end closed connection"):
            if known in text:
                return f"connection failed: {known.lower()}"
        return f"connection failed: {text[:200]}"
    return f"request failed: {e}"[:300]


def check_http(monitor, deadline):
    url, method, body = monitor.target, monitor.method, monitor.body.encode() or None
    headers = {"User-Agent": USER_AGENT, **monitor.headers}
    note = ""
    started = time.perf_counter()
    with requests.Session() as session:
        session.trust_env = False  # no proxies or CA bundles from the worker's environment
        session.mount("http://", _GuardedAdapter(max_retries=0))
        session.mount("https://", _GuardedAdapter(max_retries=0))
        for hop in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            resolve(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), deadline)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CheckFailed(f"timed out after {monitor.timeout_seconds} s")
            try:
                response = session.request(method, url, headers=headers, data=body, timeout=(remaining, remaining),
                                           allow_redirects=False, verify=monitor.verify_tls, stream=True)
            except requests.exceptions.RequestException as e:
                raise CheckFailed(_request_error(e, monitor)) from None
            tls_expires_at = _tls_expiry(response) if parts.scheme == "https" else None
            if not (response.is_redirect and monitor.follow_redirects):
                break
            location = urljoin(url, response.headers["location"])
            if urlsplit(location).scheme != parts.scheme:
                note = f"; redirect to {location[:200]} not followed (another scheme)"
                break
            if hop == MAX_REDIRECTS:
                note = f"; more than {MAX_REDIRECTS} redirects"
                break
            response.close()
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                method, body = "GET", None
            url = location

        try:
            content = b""
            for chunk in response.iter_content(64 * 1024):
                content += chunk
                if len(content) >= MAX_BODY or time.monotonic() > deadline:
                    break
        except requests.exceptions.RequestException as e:
            raise CheckFailed(_request_error(e, monitor)) from None
        finally:
            response.close()
    if time.monotonic() > deadline:
        raise CheckFailed(f"timed out after {monitor.timeout_seconds} s reading the response")
    latency = (time.perf_counter() - started) * 1000
    outcome = Outcome(ok=False, latency_ms=latency, status_code=response.status_code, tls_expires_at=tls_expires_at)

    if not any(low <= response.status_code <= high for low, high in parse_statuses(monitor.expected_status)):
        outcome.error = f"status {response.status_code}, expected {monitor.expected_status}{note}"
        return outcome
    if monitor.keyword:
        try:
            text = content.decode(response.encoding or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            text = content.decode("utf-8", errors="replace")
        found = monitor.keyword in text
        if found != (monitor.keyword_mode == monitor.KeywordMode.PRESENT):
            where = "not found in" if not found else "found in"
            outcome.error = f"keyword {monitor.keyword[:100]!r} {where} the response"
            return outcome
    if monitor.max_latency_ms and latency > monitor.max_latency_ms:
        outcome.error = f"slow: {latency:.0f} ms, more than {monitor.max_latency_ms} ms"
        return outcome
    outcome.ok = True
    return outcome


CHECKS = {"http": check_http, "tcp": check_tcp, "dns": check_dns, "ping": check_ping}
