"""A real Chromium opens a series' page: plotly.js (from our own origin, out of the installed
package) draws the chart with its percentile lines, thresholds and deployment mark, the
Content-Security-Policy refuses nothing, and not one request leaves for another origin."""

from __future__ import annotations

import pytest

from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, Role, User
from sustain.cmdb.models import ConfigItem
from sustain.monitoring import actions, rollups, rules
from sustain.monitoring.models import Series
from sustain.monitoring.series import Histogram, Incoming, ingest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery-staple"


def world() -> tuple[User, Series]:
    provider = Organization.objects.create(name="Northwind", slug="northwind", is_provider=True)
    root = User.objects.create_superuser("root@northwind.test", PASSWORD, organization=provider)
    agent = accounts.create_user(
        root, email="alice@northwind.test", name="Alice", organization=provider,
        role=Role.AGENT, password=PASSWORD,
    )  # fmt: skip
    acme = accounts.create_organization(root, name="Acme", slug="acme")
    env = ConfigItem.objects.create(organization=acme, name="acme-prod", kind="environment")
    token, _ = actions.create_machine_token(root, acme, name="otel", config_item=env)
    now = rollups.now_ms() // 60_000 * 60_000
    points = [
        Histogram(now - (240 - i) * 60_000, 10, None, [0.1, 0.5, 1.0], [5, 3, 1 + i % 3, 1])
        for i in range(240)
    ]
    ingest(token, [Incoming("h", "http_duration_seconds", {"endpoint": "/pay"}, "histogram",
                            "s", "delta", config_item=env, histograms=points)])  # fmt: skip
    rollups.roll_minutes(now - 5 * 3_600_000, now)
    rules.create_rule(root, acme, name="Pay latency", metric="http_duration_seconds",
                      aggregation="p95", warning=0.5, critical=0.9)  # fmt: skip
    return agent, Series.objects.get()


def test_a_series_page_draws_its_chart_from_our_own_origin(browser, live_server, shoot):
    agent, series = world()
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    refused: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", agent.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{base}/monitoring/series/{series.pk}?range=6h")
    page.wait_for_selector(".chart[data-drawn] svg.main-svg", timeout=20_000)
    lines = page.locator(".chart .scatterlayer .trace")
    assert lines.count() == 3  # p50, p95, p99
    legend = page.locator(".chart .legendtext").all_text_contents()
    assert legend == ["p50", "p95", "p99"], legend
    notes = " ".join(page.locator(".chart .annotation-text").all_text_contents())
    assert "Pay latency: critical (p95 > 0.9)" in notes, notes
    shoot(page, "series-chart")
    page.click("a[href='?range=1h']")
    page.wait_for_selector(".chart[data-drawn] svg.main-svg")
    assert "Read from the raw samples" in page.inner_text("main")
    foreign = [u for u in requests if not u.startswith((base, "data:", "blob:"))]
    assert not foreign, f"requests to another origin: {foreign}"
    assert any(u.endswith("/static/vendor/plotly.min.js") for u in requests)
    assert not refused, refused
    context.close()
