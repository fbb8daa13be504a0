"""A manager walks a release page (gate, contents, notes, test runs); the customer sees their
environments, the update waiting for production and its release notes in the portal."""

import re

import pytest

from sustain.demo.world import DEMO_PASSWORD, load_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")


def test_release_page_and_customer_environments(browser, live_server, shoot):
    # Ledger 2.4.2 released (deployed to Acme, Globex still on 2.4.1), 2.5.0 in testing
    load_world(tickets=12)
    base = live_server.url

    manager = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(manager, base, "mia@sustain.localhost")
    manager.wait_for_url(re.compile(r"/desk/"))
    manager.click("nav >> text=Releases")
    manager.wait_for_url(re.compile(r"/releases/"))
    shoot(manager, "release-list")
    manager.click("a.key:text-is('2.5.0')")
    manager.wait_for_selector("#gate-heading")
    gate = manager.locator("[data-testid=gate]")
    assert "gate-fail" in (gate.get_attribute("class") or "")  # no test run reported yet
    manager.fill("input[name=title]", "Scheduled PDF reports")
    manager.click("button:has-text('Add change')")
    manager.wait_for_selector("text=Scheduled PDF reports")
    failing = manager.locator("[data-testid=gate] li.check.failing")
    assert failing.count() >= 1
    assert "test" in failing.first.inner_text().lower() or "test" in gate.inner_text().lower()
    assert "Only an administrator may approve past a failing gate" in gate.inner_text()
    shoot(manager, "release-gate-blocks-approval")

    manager.goto(f"{base}/releases/")
    manager.click("a.key:text-is('2.4.2')")
    manager.wait_for_selector("#notes-heading")
    notes = manager.inner_text("[data-testid=customer-notes]")
    assert "Invoice totals are one cent short" in notes
    runs = manager.inner_text("[data-testid=test-runs]").lower()
    assert "passed" in runs and "ledger-ci" in runs
    shoot(manager, "release-shipped")

    customer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(customer, base, "dave@globex.example")
    customer.wait_for_url(re.compile(r"/portal/"))
    customer.click("text=Environments")
    customer.wait_for_selector("h1:has-text('Your environments')")
    listing = customer.inner_text("main")
    assert "globex-production" in listing and "globex-staging" in listing
    assert "acme" not in listing.lower()
    shoot(customer, "portal-environments")
    customer.click("a:has-text('globex-production')")
    customer.wait_for_selector("#available-updates")
    updates = customer.inner_text("#available-updates")
    assert "2.4.2" in updates
    assert "Invoice totals are one cent short" in updates
    shoot(customer, "portal-environment-updates")
