"""At a phone's 390 px, on the demo world: an agent pages through the maintenance calendar
(the weekly staging refresh on its days, listed below, the month's days folded into a list)
and opens the heartbeats and the probes with their uptime and sparklines; a customer reads the status of
Acme's services and the maintenance planned. No page scrolls sideways, the CSP refuses
nothing (the sparklines are plain SVG)."""

from __future__ import annotations

import re

import pytest

from sustain.demo.world import DEMO_PASSWORD, load_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = 390


def phone(browser):
    context = browser.new_context(viewport={"width": PHONE, "height": 844}, is_mobile=True)
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return context, page, refused


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_calendar_and_the_status_page_on_a_phone(browser, live_server, shoot):
    load_world(tickets=12)
    base = live_server.url

    context, agent, refused = phone(browser)
    log_in(agent, base, "alice@sustain.localhost")
    agent.goto(f"{base}/monitoring/maintenance/calendar")
    title = agent.inner_text("#month-title")
    assert width(agent) <= PHONE, f"the calendar is {width(agent)} px wide"
    shoot(agent, "calendar-this-month")
    agent.click("a[rel=next]")
    agent.wait_for_function(f"document.querySelector('#month-title').innerText != {title!r}")
    assert re.search(r"month=\d{4}-\d{2}", agent.url)
    days = agent.locator("table.month td:not(.free):not(.outside)")
    assert days.count() >= 4  # a weekly window: four or five Sundays
    first_day = days.first
    assert first_day.is_visible()
    assert "Weekly staging refresh" in first_day.inner_text()
    assert "Sun" in first_day.inner_text()  # on a phone the day is named: the grid is a list
    assert agent.locator("table.month td.free").first.is_hidden()
    listed = agent.inner_text("ul.occurrences")
    assert listed.count("Weekly staging refresh") >= 4
    assert width(agent) <= PHONE, f"the next month is {width(agent)} px wide"
    shoot(agent, "calendar-next-month")

    agent.goto(f"{base}/monitoring/heartbeats")
    row = agent.locator("tr", has_text="Nightly database backup")
    assert row.locator("svg.spark polyline").count() >= 1
    assert "%" in row.locator(".uptimes").inner_text()
    assert width(agent) <= PHONE, f"the heartbeats are {width(agent)} px wide"
    shoot(agent, "heartbeats")

    agent.goto(f"{base}/monitoring/probes")
    row = agent.locator("tr", has_text="Acme shop health")
    assert row.locator("svg.spark polyline").count() >= 1  # six hours of seeded runs
    assert "%" in row.locator(".uptimes").inner_text()
    assert width(agent) <= PHONE, f"the probes are {width(agent)} px wide"
    row.locator("a", has_text="Acme shop health").click()
    agent.wait_for_selector("h2:has-text('Last results')")
    assert "timed out" in agent.inner_text("main")
    assert width(agent) <= PHONE, f"the probe is {width(agent)} px wide"
    shoot(agent, "probe")
    assert not refused, refused
    context.close()

    context, customer, refused = phone(browser)
    log_in(customer, base, "carol@acme.example")
    customer.click("header.top .menu-toggle")
    customer.click("header.top nav a:text-is('Status')")
    customer.wait_for_selector("h1:has-text('Service status')")
    services = customer.inner_text("ul.status-list")
    assert "acme-db" in services and "acme-production" in services
    assert "globex" not in customer.inner_text("main").lower()
    assert customer.locator(".status-list .status-down").count() >= 1  # the error-rate alert
    assert "Weekly staging refresh" in customer.inner_text("ul.occurrences")
    assert width(customer) <= PHONE, f"the status page is {width(customer)} px wide"
    shoot(customer, "portal-status")
    assert not refused, refused
    context.close()
