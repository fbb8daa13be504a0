"""What the benchmark scripts share: the target, a token, a logged-in session, timing, figures.

Only the standard library, so a script runs from any Python 3.11 next to a running server:
the client should cost the 2-core machine as little as possible.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
SUSTAIN = os.environ.get("SUSTAIN_CLI", str(ROOT / ".venv" / "bin" / "sustain"))
DEFAULT_URL = os.environ.get("SUSTAIN_BENCH_URL", "http://127.0.0.1:8000")
AGENT = os.environ.get("SUSTAIN_BENCH_USER", "alice@sustain.localhost")
PASSWORD = os.environ.get("SUSTAIN_BENCH_PASSWORD", "sustain-demo-2026")


def arguments(description: str, **defaults: Any) -> argparse.ArgumentParser:
    """The options every latency script takes; `defaults` adds script-specific integers."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", default=DEFAULT_URL, help="base URL (env SUSTAIN_BENCH_URL)")
    parser.add_argument(
        "--token", default=os.environ.get("SUSTAIN_BENCH_TOKEN"), help="API token (else created)"
    )
    parser.add_argument("--user", default=AGENT, help="agent whose token or session is used")
    for name, value in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=value)
    return parser


def create_token(email: str) -> str:
    """A fresh API token from `sustain token create` (same SUSTAIN_DATA_DIR / DATABASE_URL)."""
    out = subprocess.run(
        [SUSTAIN, "token", "create", email, "--expires", "1", "--name", "bench"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


class Client:
    """One keep-alive HTTP connection with cookies; returns (status, body, seconds)."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            sys.exit("The benchmarks only talk to a server on this machine (127.0.0.1).")
        self.host, self.port = parts.hostname, parts.port or 80
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, float]:
        sent = {**self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=sent)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # gunicorn closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - started
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, data, elapsed
        raise AssertionError("unreachable")

    def get(self, path: str) -> tuple[int, bytes, float]:
        return self.request("GET", path)


def api_client(base_url: str, token: str | None, email: str) -> Client:
    return Client(base_url, {"Authorization": f"Bearer {token or create_token(email)}"})


def logged_in(base_url: str, email: str, password: str = PASSWORD) -> Client:
    """A browser-like session: the login form with its CSRF token, then the session cookie."""
    client = Client(base_url)
    status, page, _ = client.get("/login/")
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or not match:
        sys.exit(f"GET /login/ answered {status} without a CSRF token.")
    form = urlencode(
        {"csrfmiddlewaretoken": match.group(1).decode(), "username": email, "password": password}
    ).encode()
    status, _, _ = client.request(
        "POST",
        "/login/",
        form,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://{client.host}:{client.port}/login/",
        },
    )
    if status != 302 or "sessionid" not in client.cookies:
        sys.exit(f"Logging in as {email} failed ({status}).")
    return client


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile of `samples` (seconds)."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"p50 {percentile(ms, 50):7.1f} ms  p95 {percentile(ms, 95):7.1f} ms  "
        f"p99 {percentile(ms, 99):7.1f} ms  mean {statistics.fmean(ms):6.1f} ms  n={len(ms)}"
    )


def measure(
    client: Client,
    cases: Iterable[tuple[str, str]],
    *,
    rounds: int,
    warmup: int,
    check: Callable[[str, bytes], None] | None = None,
) -> dict[str, list[float]]:
    """Time GETs of each (name, path), interleaved round by round so that none runs cold."""
    cases = list(cases)
    timings: dict[str, list[float]] = {name: [] for name, _ in cases}
    for i in range(warmup + rounds):
        for name, path in cases:
            status, body, seconds = client.get(path)
            if status != 200:
                sys.exit(f"{name}: GET {path} answered {status}: {body[:300]!r}")
            if check is not None and i == 0:
                check(name, body)
            if i >= warmup:
                timings[name].append(seconds)
    return timings


def report(title: str, timings: dict[str, list[float]], target_ms: float) -> bool:
    """Print one line per case and the figure over all of them; True when p95 meets the target."""
    width = max(len(name) for name in timings)
    print(title)
    for name, samples in timings.items():
        print(f"  {name:<{width}}  {summary(samples)}")
    everything = [s for samples in timings.values() for s in samples]
    p95 = percentile(everything, 95) * 1000
    verdict = "met" if p95 < target_ms else "MISSED"
    print(f"  {'ALL':<{width}}  {summary(everything)}")
    print(f"FIGURE {title}: p95 {p95:.1f} ms (target < {target_ms:.0f} ms: {verdict})")
    return p95 < target_ms


def results(body: bytes) -> dict[str, Any]:
    return json.loads(body)


def dkim_key() -> tuple[bytes, bytes]:
    """A new 2048-bit RSA key for DKIM: (private key PEM, the DKIM record's p= value)."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(public)
