"""Each kind of check against real servers on loopback (no database: checks are network only)."""

import pytest

from vigil.monitors import checks
from vigil.monitors.models import Monitor


def http(url, **settings):
    return Monitor(kind="http", target=url, timeout_seconds=settings.pop("timeout_seconds", 5), **settings)


def test_a_healthy_page_passes_with_its_latency_and_status(http_server):
    outcome = checks.run(http(http_server.url))
    assert outcome.ok, outcome.error
    assert outcome.status_code == 200
    assert 0 < outcome.latency_ms < 5000
    method, path, headers = http_server.behaviour.requests[-1]
    assert (method, path) == ("GET", "/")
    assert headers["User-Agent"].startswith("Vigil-Monitor")


def test_it_sends_the_method_headers_and_body_asked_for(http_server):
    outcome = checks.run(http(http_server.url + "api?x=1", method="POST", headers={"X-Probe": "yes"}, body="ping"))
    assert outcome.ok, outcome.error
    method, path, headers = http_server.behaviour.requests[-1]
    assert (method, path, headers["X-Probe"]) == ("POST", "/api?x=1", "yes")


def test_an_unexpected_status_fails(http_server):
    http_server.behaviour.status = 503
    outcome = checks.run(http(http_server.url))
    assert not outcome.ok
    assert outcome.status_code == 503
    assert outcome.error == "status 503, expected 200-299"


def test_the_expected_status_can_be_a_list_of_codes_ranges_and_classes(http_server):
    http_server.behaviour.status = 404
    assert checks.run(http(http_server.url, expected_status="200, 4xx")).ok
    assert not checks.run(http(http_server.url, expected_status="200-299,500")).ok


def test_a_missing_keyword_fails_and_a_present_one_passes(http_server):
    assert checks.run(http(http_server.url, keyword="operational")).ok
    outcome = checks.run(http(http_server.url, keyword="Welcome back"))
    assert not outcome.ok
    assert outcome.error == "keyword 'Welcome back' not found in the response"


def test_a_keyword_that_must_be_absent_fails_when_found(http_server):
    http_server.behaviour.body = b"Fatal error: database connection lost"
    outcome = checks.run(http(http_server.url, keyword="Fatal error", keyword_mode="absent"))
    assert not outcome.ok
    assert outcome.error == "keyword 'Fatal error' found in the response"
    assert checks.run(http(http_server.url, keyword="Warning", keyword_mode="absent")).ok


def test_a_response_slower_than_the_max_latency_fails(http_server):
    http_server.behaviour.delay = 0.3
    outcome = checks.run(http(http_server.url, max_latency_ms=100))
    assert not outcome.ok
    assert outcome.latency_ms >= 300
    assert outcome.error.startswith("slow: ") and outcome.error.endswith("more than 100 ms")


def test_a_response_slower_than_the_timeout_fails(http_server):
    http_server.behaviour.delay = 1.5
    outcome = checks.run(http(http_server.url, timeout_seconds=1))
    assert not outcome.ok
    assert outcome.error == "timed out after 1 s"


def test_a_refused_connection_fails(closed_port):
    outcome = checks.run(http(f"http://127.0.0.1:{closed_port}/"))
    assert not outcome.ok
    assert outcome.error == "connection failed: connection refused"


def test_it_follows_redirects_on_the_same_scheme(http_server):
    http_server.behaviour.status = 302
    http_server.behaviour.headers = {"Location": "/elsewhere"}
    outcome = checks.run(http(http_server.url, follow_redirects=False, expected_status="302"))
    assert outcome.ok
    # Followed, it keeps being redirected: it stops after 10 hops and reports the redirect.
    outcome = checks.run(http(http_server.url))
    assert not outcome.ok
    assert outcome.error == "status 302, expected 200-299; more than 10 redirects"
    assert len(http_server.behaviour.requests) == 1 + 11
    assert http_server.behaviour.requests[-1][1] == "/elsewhere"


def test_it_never_follows_a_redirect_to_another_scheme(http_server):
    http_server.behaviour.status = 301
    http_server.behaviour.headers = {"Location": "https://127.0.0.1:1/login"}
    outcome = checks.run(http(http_server.url))
    assert not outcome.ok
    assert outcome.error == "status 301, expected 200-299; redirect to https://127.0.0.1:1/login not followed (another scheme)"
    assert len(http_server.behaviour.requests) == 1


def test_a_self_signed_certificate_fails_verification(https_server_expiring):
    outcome = checks.run(http(https_server_expiring.url))
    assert not outcome.ok
    assert outcome.error.startswith("TLS error: ")
    assert "certificate verify failed" in outcome.error


def test_it_reads_the_certificate_expiry_even_without_verification(https_server_expiring):
    outcome = checks.run(http(https_server_expiring.url, verify_tls=False))
    assert outcome.ok, outcome.error
    assert outcome.tls_expires_at == https_server_expiring.expires_at.replace(microsecond=0)


def test_an_open_tcp_port_passes_and_a_closed_one_fails(open_port, closed_port):
    outcome = checks.run(Monitor(kind="tcp", target=f"127.0.0.1:{open_port}", timeout_seconds=2))
    assert outcome.ok and outcome.latency_ms >= 0
    outcome = checks.run(Monitor(kind="tcp", target=f"127.0.0.1:{closed_port}", timeout_seconds=2))
    assert not outcome.ok
    assert outcome.error == f"cannot connect to 127.0.0.1:{closed_port}: connection refused"


def test_ping_connects_to_port_80_unless_told_another(open_port):
    assert checks.run(Monitor(kind="ping", target=f"localhost:{open_port}", timeout_seconds=2)).ok
    assert checks.split_host_port("example.com", default_port=80) == ("example.com", 80)
    assert checks.split_host_port("[2001:db8::1]:8443") == ("2001:db8::1", 8443)


def test_dns_resolution_passes_and_checks_the_expected_answer(dns_server):
    def dns(name, **settings):
        return Monitor(kind="dns", target=name, nameserver=dns_server, timeout_seconds=2, **settings)

    assert checks.run(dns("shop.example")).ok
    assert checks.run(dns("shop.example", expected_answer="203.0.113.11")).ok
    assert checks.run(dns("www.shop.example", record_type="CNAME", expected_answer="shop.example")).ok
    outcome = checks.run(dns("shop.example", expected_answer="198.51.100.7"))
    assert not outcome.ok
    assert outcome.error == "198.51.100.7 is not among the A records: 203.0.113.10, 203.0.113.11"
    outcome = checks.run(dns("gone.example"))
    assert not outcome.ok and outcome.error == "gone.example: no such name (NXDOMAIN)"
    outcome = checks.run(dns("shop.example", record_type="MX"))
    assert not outcome.ok and outcome.error == "shop.example has no MX record"


@pytest.fixture
def private_forbidden(settings):
    settings.MONITOR_ALLOW_PRIVATE = False


def test_private_addresses_are_refused_when_configured(private_forbidden, http_server, open_port, dns_server):
    outcome = checks.run(http(http_server.url))
    assert not outcome.ok
    assert outcome.error == "127.0.0.1 resolves to 127.0.0.1, a private address (not allowed here)"
    assert http_server.behaviour.requests == []  # refused before connecting
    outcome = checks.run(Monitor(kind="tcp", target=f"localhost:{open_port}", timeout_seconds=2))
    assert not outcome.ok and "a private address (not allowed here)" in outcome.error
    outcome = checks.run(Monitor(kind="dns", target="shop.example", nameserver=dns_server, timeout_seconds=2))
    assert not outcome.ok and outcome.error == "nameserver 127.0.0.1 is a private address (not allowed here)"


def test_a_name_that_turns_private_after_the_check_is_refused_before_the_request(
        private_forbidden, http_server, monkeypatch):
    # DNS rebinding: the name looked public when resolved, the socket ends up on loopback.
    monkeypatch.setattr(checks, "resolve", lambda host, port, deadline: [])
    outcome = checks.run(http(f"http://localhost:{http_server.port}/"))
    assert not outcome.ok
    assert outcome.error == "localhost connected to 127.0.0.1, a private address (not allowed here)"
    assert http_server.behaviour.requests == []


def test_public_and_private_addresses_are_told_apart():
    assert checks.is_public("93.184.216.34")
    for address in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "::1",
                    "fd00::1", "fe80::1%eth0", "::ffff:10.0.0.1", "0.0.0.0"):
        assert not checks.is_public(address), address


def test_status_specs_are_parsed_or_refused():
    assert checks.parse_statuses("200-299, 301, 3xx") == [(200, 299), (301, 301), (300, 399)]
    for bad in ("", "20", "299-200", "abc", "6xx", "200-700"):
        with pytest.raises(ValueError):
            checks.parse_statuses(bad)
