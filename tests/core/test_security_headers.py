"""The Content-Security-Policy on every answer, no inline script left in any template, the API
docs served from our own files, HSTS and Secure cookies behind TLS, and the client address."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from django.test import Client, RequestFactory, override_settings

import sustain
from sustain.core.client import client_address
from tests.base import PASSWORD, SustainTestCase

SRC = Path(sustain.__file__).parent


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


class ContentSecurityPolicyTests(SustainTestCase):
    def assert_policy(self, response) -> None:
        directives = policy(response)
        self.assertEqual(directives["script-src"], "script-src 'self'")
        self.assertEqual(directives["default-src"], "default-src 'self'")
        self.assertEqual(directives["style-src"], "style-src 'self' 'unsafe-inline'")
        self.assertEqual(directives["img-src"], "img-src 'self' data:")
        self.assertEqual(directives["object-src"], "object-src 'none'")
        self.assertEqual(directives["base-uri"], "base-uri 'self'")
        self.assertEqual(directives["form-action"], "form-action 'self'")
        self.assertEqual(directives["frame-ancestors"], "frame-ancestors 'none'")

    def test_every_kind_of_answer_carries_the_policy(self) -> None:
        client = Client()
        for path in ["/login/", "/healthz", "/no-such-page", "/api/v1/me", "/api/openapi.json"]:
            with self.subTest(path=path):
                self.assert_policy(client.get(path))
        client.force_login(self.alice)
        ticket = self.open_ticket()
        for path in [
            "/",
            f"/desk/t/{ticket.key}",
            "/reports/sla",
            "/webhooks/",
            "/api/v1/me",
            "/api/docs",
        ]:
            with self.subTest(path=path):
                response = client.get(path, follow=True)
                self.assertEqual(response.status_code, 200)
                self.assert_policy(response)
        self.assert_policy(self.api(self.alice).get("/api/v1/tickets"))
        client.force_login(self.root)
        self.assert_policy(client.get("/admin/"))

    def test_the_api_docs_come_from_our_own_files_with_no_inline_script(self) -> None:
        client = Client()
        client.force_login(self.alice)
        html = client.get("/api/docs").content.decode()
        sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
        self.assertTrue(sources)
        self.assertTrue(all(src.startswith("/static/ninja/") for src in sources), sources)
        self.assertNotRegex(html, r'(src|href)="(https?:)?//')
        for tag in re.findall(r"<script\b[^>]*>", html):
            self.assertTrue("src=" in tag or 'type="application/json"' in tag, tag)
        settings = re.search(r'id="swagger-settings">(.*?)</script>', html, re.S)
        self.assertIsNone(json.loads(settings.group(1))["validatorUrl"])
        self.assertEqual(client.get(sources[0]).status_code, 200)


INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.I)


def test_no_template_has_an_inline_script_or_event_handler() -> None:
    templates = [p for p in SRC.rglob("templates/**/*") if p.suffix in {".html", ".txt", ".svg"}]
    assert len(templates) > 20
    found = []
    for path in templates:
        text = path.read_text()
        found += [f"{path}: {m.group(0)[:80]}" for m in INLINE_HANDLER.finditer(text)]
        found += [f"{path}: javascript: URL" for _ in re.finditer(r"javascript:", text, re.I)]
        for tag in SCRIPT_TAG.findall(text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                found.append(f"{path}: {tag}")
    assert not found, "\n".join(found)


class HttpsTests(SustainTestCase):
    @override_settings(
        SECURE_HSTS_SECONDS=31536000,
        SESSION_COOKIE_SECURE=True,
        CSRF_COOKIE_SECURE=True,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        TRUSTED_PROXIES=["127.0.0.1"],
    )
    def test_behind_tls_hsts_is_sent_and_cookies_are_secure(self) -> None:
        client = Client()
        via_proxy = {"X-Forwarded-Proto": "https"}
        page = client.get("/login/", headers=via_proxy)
        self.assertEqual(page["Strict-Transport-Security"], "max-age=31536000")
        self.assertTrue(page.cookies["csrftoken"]["secure"])
        login = client.post(
            "/login/",
            {"username": self.alice.email, "password": PASSWORD},
            headers=via_proxy,
        )
        self.assertEqual(login.status_code, 302)
        self.assertTrue(login.cookies["sessionid"]["secure"])
        # Plain HTTP (not through the proxy's TLS): no HSTS.
        self.assertNotIn("Strict-Transport-Security", client.get("/login/"))
        # X-Forwarded-Proto from anyone but the proxy is dropped, not believed.
        forged = client.get("/login/", headers=via_proxy, REMOTE_ADDR="203.0.113.7")
        self.assertNotIn("Strict-Transport-Security", forged)


def settings_under(env: dict[str, str]) -> dict:
    """Sustain's settings as a fresh process computes them from this environment."""
    code = (
        "import json, sustain.settings as s;"
        "print(json.dumps({k: getattr(s, k, None) for k in ["
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS',"
        "'SECURE_PROXY_SSL_HEADER', 'SECURE_SSL_REDIRECT', 'TRUSTED_PROXIES']}))"
    )
    import os

    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_sustain_https_turns_on_secure_cookies_and_hsts(tmp_path: Path) -> None:
    off = settings_under({"SUSTAIN_DATA_DIR": str(tmp_path)})
    assert not off["SESSION_COOKIE_SECURE"] and not off["SECURE_HSTS_SECONDS"]
    assert off["SECURE_PROXY_SSL_HEADER"] is None and off["TRUSTED_PROXIES"] == []
    on = settings_under(
        {
            "SUSTAIN_DATA_DIR": str(tmp_path),
            "SUSTAIN_HTTPS": "1",
            "SUSTAIN_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
        }
    )
    assert on["SESSION_COOKIE_SECURE"] and on["CSRF_COOKIE_SECURE"]
    assert on["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert on["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert on["TRUSTED_PROXIES"] == ["127.0.0.1", "10.0.0.0/8"]


def address(remote: str, forwarded: str | None = None) -> str:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    assert address("203.0.113.7", "1.2.3.4") == "203.0.113.7"
    with override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "::1"]):
        assert address("203.0.113.7", "1.2.3.4") == "203.0.113.7"
        assert address("10.0.0.5", "1.2.3.4") == "1.2.3.4"
        # A client's own hop left of the proxy's is not believed; proxies chained are walked.
        assert address("10.0.0.5", "6.6.6.6, 1.2.3.4") == "1.2.3.4"
        assert address("10.0.0.5", "1.2.3.4, 10.9.9.9") == "1.2.3.4"
        assert address("::1", "2001:db8::1") == "2001:db8::1"
        assert address("10.0.0.5", "") == "10.0.0.5"
        assert address("10.0.0.5", "garbage") == "10.0.0.5"
        assert address("::ffff:10.0.0.5", "1.2.3.4") == "1.2.3.4"
