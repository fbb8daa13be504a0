"""The outbound-request guard (core.outbound): hostile targets are refused in every spelling,
the connection goes to the address that was checked, redirects are not followed, answers are
read within bounds, and failures are told as kinds, not as socket text.

Names resolve through an injected resolver (no network); the servers are real, on 127.0.0.1,
reached only where a test allows 127.0.0.1/32 on purpose.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from sustain.core import outbound
from sustain.core.outbound import Kind, OutboundError

LOCAL = ("127.0.0.1/32",)

# --- every spelling of "not the public internet" -------------------------------------------------
HOSTILE = [
    "http://127.0.0.1/",
    "http://127.8.9.10:8080/",
    "http://localhost/",
    "http://LOCALHOST:9000/",
    "http://localhost./",
    "http://app.localhost/",
    "http://a.b.localhost./",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata.google.internal./",
    "http://metadata/",
    "http://instance-data/",
    "http://10.0.0.5:8080/hook",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://100.127.255.254/",
    "http://100.100.100.200/",  # Alibaba's metadata, in CGNAT
    "http://0.0.0.0/",
    "http://0.1.2.3/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://192.0.0.8/",
    "http://198.18.0.1/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fd00::1]/",
    "http://[fc00::1]/",
    "http://[fd00:ec2::254]/",  # AWS's IPv6 metadata
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible (deprecated)
    "http://[64:ff9b::127.0.0.1]/",  # NAT64 with a loopback inside
    "http://[64:ff9b::10.1.2.3]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[2002:a00:1::1]/",  # 6to4 of 10.0.0.1
    "http://[2001:db8::1]/",  # documentation
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7F.0.0.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://127.000.000.001/",
    "http://1.2.3.4.5/",
    "http://127.0.0.1./",
    "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/",  # full-width digits
    "http://127\u30020\u30020\u30021/",  # ideographic full stops
    "ftp://example.com/",
    "file:///etc/passwd",
    "gopher://example.com:70/",
    "javascript:alert(1)",
    "http://user:pw@example.com/",
    "http://example.com@127.0.0.1/",
    "http://127.0.0.1\\@example.com/",
    "http:///no-host",
    "http://exa mple.com/",
    "http://example.com:0/",
    "http://example.com:99999/",
    "",
]


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_targets_are_refused_before_any_lookup(url, settings):
    settings.OUTBOUND_ALLOW_NETWORKS = ()
    looked_up: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["93.184.216.34"]

    with pytest.raises(OutboundError) as refused:
        outbound.check_target(url, resolver=resolver)
    assert refused.value.kind in (Kind.NOT_ALLOWED, Kind.INVALID_URL, Kind.SCHEME)
    assert looked_up == []
    with pytest.raises(OutboundError):
        outbound.request("GET", url, timeout=1, resolver=resolver)
    assert looked_up == []


PUBLIC = [
    ("https://hooks.example.com/sustain", "hooks.example.com", 443),
    ("http://93.184.216.34:8080/x?y=1", "93.184.216.34", 8080),
    ("https://[2606:4700::1111]/", "2606:4700::1111", 443),
    ("https://[64:ff9b::8.8.8.8]/", "64:ff9b::808:808", 443),  # NAT64 of a public address
    ("https://[::ffff:8.8.8.8]/", "::ffff:808:808", 443),
    ("https://b\u00fccher.example/", "xn--bcher-kva.example", 443),
    ("https://hooks.example.com./", "hooks.example.com", 443),
]


@pytest.mark.parametrize(("url", "host", "port"), PUBLIC)
def test_public_targets_pass(url, host, port, settings):
    settings.OUTBOUND_ALLOW_NETWORKS = ()
    target = outbound.check_target(url, resolver=lambda h, p: ["93.184.216.34"])
    assert (target.host, target.port) == (host, port)


def test_every_resolved_address_is_checked(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = ()
    for answer in (["93.184.216.34", "127.0.0.1"], ["10.1.2.3"], ["2606:4700::1111", "fd00::7"]):
        with pytest.raises(OutboundError) as refused:
            outbound.check_target("https://evil.example/", resolver=lambda h, p, a=answer: a)
        assert refused.value.kind is Kind.NOT_ALLOWED


def test_a_name_that_does_not_resolve_yet_passes_the_save_check_but_not_the_request(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = ()

    def nowhere(host: str, port: int) -> list[str]:
        raise OutboundError(Kind.NOT_RESOLVED)

    outbound.check_target("https://not-yet.example/", resolver=nowhere)
    with pytest.raises(OutboundError) as failed:
        outbound.request("POST", "https://not-yet.example/", resolver=nowhere)
    assert str(failed.value) == "name not resolved"


def test_a_resolver_that_hangs_is_abandoned_at_the_deadline(settings):
    release = threading.Event()

    def slow(host: str, port: int) -> list[str]:
        release.wait(5)
        return ["93.184.216.34"]

    started = time.monotonic()
    try:
        with pytest.raises(OutboundError) as failed:
            outbound.request("GET", "https://slow.example/", timeout=0.3, resolver=slow)
    finally:
        release.set()
    assert failed.value.kind is Kind.NOT_RESOLVED
    assert time.monotonic() - started < 2


# --- hypothesis: any blocked address, in any of its spellings -----------------------------------
BLOCKED_V4 = [
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "0.0.0.0/8",
    "224.0.0.0/4",
    "240.0.0.0/4",
]
BLOCKED_V6 = ["::1/128", "fc00::/7", "fe80::/10", "ff00::/8"]


def _in(network: str) -> st.SearchStrategy[Any]:
    net = ipaddress.ip_network(network)
    return st.integers(int(net.network_address), int(net.broadcast_address)).map(
        type(net.network_address)
    )


def _spellings(v4: ipaddress.IPv4Address) -> list[str]:
    n = int(v4)
    a, b, c, d = v4.packed
    return [
        str(v4),
        str(n),
        hex(n),
        f"{a}.{(b << 16) | (c << 8) | d}",
        f"0{a:o}.{b}.{c}.{d}",
        f"[::ffff:{v4}]",
        f"[::{v4}]",
        f"[64:ff9b::{v4}]",
        f"[2002:{n >> 16:x}:{n & 0xFFFF:x}::1]",
    ]


@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    address=st.one_of(*(_in(n) for n in BLOCKED_V4)),
    spelling=st.integers(0, 8),
    via_dns=st.booleans(),
)
def test_any_blocked_ipv4_address_is_refused_however_it_is_written(
    address, spelling, via_dns, settings
):
    settings.OUTBOUND_ALLOW_NETWORKS = ()
    if via_dns:  # a name that resolves to it
        url, resolver = "https://innocent.example/", (lambda h, p: [str(address)])
    else:
        url, resolver = f"http://{_spellings(address)[spelling]}/", (lambda h, p: [])
    with pytest.raises(OutboundError):
        outbound.check_target(url, resolver=resolver)


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(address=st.one_of(*(_in(n) for n in BLOCKED_V6)))
def test_any_blocked_ipv6_address_is_refused(address, settings):
    settings.OUTBOUND_ALLOW_NETWORKS = ()
    with pytest.raises(OutboundError):
        outbound.check_target(f"http://[{address}]/")
    with pytest.raises(OutboundError):
        outbound.check_target("https://six.example/", resolver=lambda h, p: [str(address)])


def test_an_allowed_network_opens_exactly_that_network(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = ("10.20.0.0/16", "127.0.0.1/32")
    outbound.check_target("http://10.20.3.4:8080/hook")
    outbound.check_target("http://127.0.0.1:9999/")
    outbound.check_target("http://[::ffff:127.0.0.1]/")
    outbound.check_target("http://onprem.example/", resolver=lambda h, p: ["10.20.9.9"])
    for url in ("http://10.21.0.1/", "http://127.0.0.2/", "http://169.254.169.254/"):
        with pytest.raises(OutboundError):
            outbound.check_target(url)
    with pytest.raises(OutboundError):  # names of the machine itself stay refused
        outbound.check_target("http://localhost:9999/")


# --- real exchanges with a local server -----------------------------------------------------------
class _Server:
    """A scripted HTTP server on 127.0.0.1 that records what it was sent."""

    def __init__(self, answer: Any = None, tls: ssl.SSLContext | None = None):
        self.requests: list[dict[str, Any]] = []
        self.server_names: list[str | None] = []
        self.answer = answer or (lambda handler: handler.reply(200, b"fine"))
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, body: bytes = b"", **headers: str) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key.replace("_", "-"), value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                server.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers.items()),
                        "body": self.rfile.read(length),
                    }
                )
                server.answer(self)

            do_GET = do_POST = handle_one

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _to_local(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def test_the_connection_goes_to_the_checked_address_with_the_url_host_in_host(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = LOCAL
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        # a rebinding resolver: the first answer is checked, any later one would be private
        return ["127.0.0.1"] if len(lookups) == 1 else ["10.9.9.9"]

    with _Server() as server:
        answer = outbound.request(
            "POST",
            f"http://hooks.example:{server.port}/in?x=1",
            body=b'{"a": 1}',
            headers={"Content-Type": "application/json"},
            resolver=resolver,
        )
    assert (answer.status, answer.body, answer.address) == (200, b"fine", "127.0.0.1")
    assert lookups == ["hooks.example"]  # resolved once, connected to what was checked
    [sent] = server.requests
    assert sent["headers"]["Host"] == f"hooks.example:{server.port}"
    assert (sent["method"], sent["path"], sent["body"]) == ("POST", "/in?x=1", b'{"a": 1}')


def test_without_the_allowance_the_local_server_gets_nothing(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = ()
    with _Server() as server, pytest.raises(OutboundError) as refused:
        outbound.request("POST", f"http://evil.example:{server.port}/", resolver=_to_local)
    assert str(refused.value) == "address not allowed: loopback"
    assert server.requests == []


def test_redirects_are_answers_not_followed(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = LOCAL
    with _Server() as inside:

        def redirect(handler: Any) -> None:
            handler.reply(302, b"", Location=f"http://127.0.0.1:{inside.port}/secret")

        with _Server(redirect) as outside:
            answer = outbound.request("GET", f"http://127.0.0.1:{outside.port}/")
    assert (answer.status, answer.is_redirect) == (302, True)
    assert answer.header("location").endswith("/secret")
    assert inside.requests == []


def test_at_most_max_bytes_of_the_answer_are_read(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = LOCAL
    with _Server(lambda h: h.reply(500, b"x" * 100_000)) as server:
        answer = outbound.request("GET", f"http://127.0.0.1:{server.port}/", max_bytes=300)
        short = outbound.request("GET", f"http://127.0.0.1:{server.port}/", max_bytes=200_000)
    assert (answer.status, len(answer.body), answer.truncated) == (500, 300, True)
    assert (len(short.body), short.truncated) == (100_000, False)


def test_one_deadline_covers_a_server_that_trickles(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = LOCAL

    def trickle(handler: Any) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(40):  # a header line a byte at a time, never finished
            handler.wfile.write(b"X")
            handler.wfile.flush()
            time.sleep(0.1)

    with _Server(trickle) as server:
        started = time.monotonic()
        with pytest.raises(OutboundError) as failed:
            outbound.request("GET", f"http://127.0.0.1:{server.port}/", timeout=0.5)
    assert str(failed.value) == "timed out"
    assert time.monotonic() - started < 2


def test_a_server_that_never_speaks_tls_times_out_at_the_deadline(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = LOCAL
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        started = time.monotonic()
        with pytest.raises(OutboundError) as failed:
            outbound.request("GET", f"https://127.0.0.1:{silent.getsockname()[1]}/", timeout=0.5)
    assert str(failed.value) == "timed out"
    assert time.monotonic() - started < 2


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_failures_are_told_as_kinds_not_socket_text(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = LOCAL
    with pytest.raises(OutboundError) as refused:
        outbound.request("GET", f"http://127.0.0.1:{_closed_port()}/")
    assert str(refused.value) == "connection refused"
    assert "Errno" not in str(refused.value)

    # https to a server that speaks plain HTTP
    with _Server() as plain, pytest.raises(OutboundError) as tls:
        outbound.request("GET", f"https://127.0.0.1:{plain.port}/", timeout=2)
    assert tls.value.kind is Kind.TLS

    ssh_banner = _Server(lambda h: h.wfile.write(b"SSH-2.0-OpenSSH_9.2\r\n"))
    with ssh_banner as ssh, pytest.raises(OutboundError) as garbage:
        outbound.request("GET", f"http://127.0.0.1:{ssh.port}/", timeout=2)
    assert str(garbage.value) == "invalid HTTP answer"


# --- TLS: SNI and certificate verification keep the host name ----------------------------------
@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Iterator[tuple[Path, Path]]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    yield cert_path, key_path


def test_https_to_the_pinned_address_keeps_sni_and_verifies_the_host_name(settings, certificate):
    settings.OUTBOUND_ALLOW_NETWORKS = LOCAL
    cert_path, key_path = certificate
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert_path, key_path)
    trusting = ssl.create_default_context(cafile=str(cert_path))
    with _Server(tls=served) as server:
        answer = outbound.request(
            "GET",
            f"https://hooks.example:{server.port}/",
            resolver=_to_local,
            ssl_context=trusting,
            timeout=3,
        )
        assert answer.status == 200
        assert server.server_names[-1] == "hooks.example"
        # the verified certificate's notAfter (probes warn ahead of it): about a day from now
        assert answer.cert_expires_at is not None
        left = answer.cert_expires_at - datetime.datetime.now(datetime.UTC)
        assert datetime.timedelta(hours=23) < left <= datetime.timedelta(days=1)
        # The same address under another name: the certificate does not fit, so no request.
        with pytest.raises(OutboundError) as mismatch:
            outbound.request(
                "GET",
                f"https://other.example:{server.port}/",
                resolver=_to_local,
                ssl_context=trusting,
                timeout=3,
            )
        assert str(mismatch.value) == "TLS handshake failed: certificate not valid for the host"
        # Not trusted at all (the system's authorities): refused too.
        with pytest.raises(OutboundError) as untrusted:
            outbound.request(
                "GET", f"https://hooks.example:{server.port}/", resolver=_to_local, timeout=3
            )
        assert untrusted.value.kind is Kind.TLS
    assert len(server.requests) == 1


def test_the_setting_is_read_strictly(monkeypatch):
    from sustain.settings import _env_networks  # noqa: PLC2701 (settings export no parser)

    monkeypatch.setenv("SUSTAIN_OUTBOUND_ALLOW_NETWORKS", " 10.20.0.0/16, 127.0.0.1 ,fd00::/8")
    assert _env_networks("SUSTAIN_OUTBOUND_ALLOW_NETWORKS") == (
        "10.20.0.0/16",
        "127.0.0.1/32",
        "fd00::/8",
    )
    monkeypatch.setenv("SUSTAIN_OUTBOUND_ALLOW_NETWORKS", "10.0.0.1/8")  # host bits: a typo?
    with pytest.raises(ValueError, match="SUSTAIN_OUTBOUND_ALLOW_NETWORKS"):
        _env_networks("SUSTAIN_OUTBOUND_ALLOW_NETWORKS")
    monkeypatch.delenv("SUSTAIN_OUTBOUND_ALLOW_NETWORKS")
    assert _env_networks("SUSTAIN_OUTBOUND_ALLOW_NETWORKS") == ()
