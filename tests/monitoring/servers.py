"""Real servers on 127.0.0.1 for the probe tests: an HTTP(S) server whose answer a test sets,
started and stopped by the test, and a self-signed certificate made with `cryptography`."""

from __future__ import annotations

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Site:
    """An HTTP server on 127.0.0.1; `status`, `body` and `headers` are what it answers now.
    `stop()` closes the port (connections are refused), `start()` opens it again there."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.status, self.body = 200, b"all good"
        self.content_type = "text/plain"
        self.requests: list[dict[str, Any]] = []
        self.tls = tls
        self.port = 0
        self.httpd: ThreadingHTTPServer | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self) -> None:
                site.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers)}
                )
                body = b"" if self.command == "HEAD" else site.body
                self.send_response(site.status)
                self.send_header("Content-Type", site.content_type)
                self.send_header("Content-Length", str(len(site.body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_OPTIONS = answer

        return Handler

    def start(self) -> Site:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.httpd.daemon_threads = True
        if self.tls is not None:
            self.httpd.socket = self.tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def url(self, path: str = "/health", host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> Site:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def certificate(folder: Path, host: str, days: int) -> tuple[Path, Path]:
    """A self-signed certificate for `host` valid `days` more days: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    # A subject of its own per certificate: a trust store holding two with one subject would
    # look the issuer up by it and may pick the other one.
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{host} ({days} days)")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{host}-{days}.pem", folder / f"{host}-{days}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
