"""Real servers on loopback for the checks to reach: HTTP (that can be stopped and started again on
the same port), HTTPS with a self-signed certificate made here, a closed TCP port, and a DNS
server answering from a small zone."""

import datetime as dt
import socket
import socketserver
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.message
import dns.rcode
import dns.rrset
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class Behaviour:
    """What the test server answers; tests change it between checks."""

    def __init__(self):
        self.status = 200
        self.body = b"<html><body>All systems operational</body></html>"
        self.delay = 0.0
        self.headers = {}
        self.requests = []


class Handler(BaseHTTPRequestHandler):
    def _answer(self):
        behaviour = self.server.behaviour
        behaviour.requests.append((self.command, self.path, dict(self.headers)))
        if behaviour.delay:
            time.sleep(behaviour.delay)
        self.send_response(behaviour.status)
        for name, value in behaviour.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(behaviour.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(behaviour.body)

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gives up on our certificate is what some tests want


class LocalServer:
    def __init__(self, tls_context=None):
        self.behaviour = Behaviour()
        self.tls_context = tls_context
        self.port = None
        self.httpd = None

    @property
    def url(self):
        return f"{'https' if self.tls_context else 'http'}://127.0.0.1:{self.port}/"

    def start(self):
        self.httpd = QuietServer(("127.0.0.1", self.port or 0), Handler)
        self.httpd.behaviour = self.behaviour
        if self.tls_context:
            self.httpd.socket = self.tls_context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


@pytest.fixture
def http_server():
    server = LocalServer().start()
    yield server
    server.stop()


def self_signed(tmp_path, days):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, cert.not_valid_after_utc


@pytest.fixture
def https_server_expiring(tmp_path):
    """HTTPS with a self-signed certificate that expires in 3 days; `.expires_at` says exactly when."""
    context, expires_at = self_signed(tmp_path, days=3)
    server = LocalServer(context).start()
    server.expires_at = expires_at
    yield server
    server.stop()


@pytest.fixture
def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def open_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


class DnsHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        records = self.server.zone.get(name)
        if records is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif rdtype in records:
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", rdtype, *records[rdtype]))
        sock.sendto(response.to_wire(), self.client_address)


@pytest.fixture
def dns_server():
    server = socketserver.ThreadingUDPServer(("127.0.0.1", 0), DnsHandler)
    server.zone = {"shop.example": {"A": ["203.0.113.10", "203.0.113.11"]}, "www.shop.example": {"CNAME": ["shop.example."]}}
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
