"""A customer reports an incident, an agent takes it and answers, the customer sees the answer."""

import re

import pytest

from sustain.demo.world import DEMO_PASSWORD, load_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")


def test_customer_reports_agent_assigns_and_replies(browser, live_server, shoot):
    load_world(tickets=12)
    base = live_server.url

    customer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(customer, base, "carol@acme.example")
    customer.wait_for_url(re.compile(r"/portal/$"))
    shoot(customer, "portal-list")
    customer.click("text=Report a problem")
    customer.fill("input[name=title]", "Invoices page is blank since this morning")
    customer.fill("textarea[name=description]", "Every user sees an **empty page** at /invoices.")
    customer.select_option("select[name=impact]", "1")
    customer.select_option("select[name=urgency]", "1")
    shoot(customer, "portal-new")
    customer.click("button:has-text('Submit')")
    customer.wait_for_url(re.compile(r"/portal/t/INC-\d+$"))
    key = customer.url.rsplit("/", 1)[1]
    shoot(customer, "portal-ticket")
    customer.click("text=My tickets")
    row = customer.locator(f"tr[data-key='{key}']")
    assert row.count() == 1
    assert "Invoices page is blank" in row.inner_text()
    shoot(customer, "portal-list-with-new-ticket")

    agent = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(agent, base, "alice@sustain.localhost")
    agent.wait_for_url(re.compile(r"/desk/"))
    agent.click("text=Unassigned")
    agent.wait_for_selector(f"tr[data-key='{key}']")
    shoot(agent, "unassigned-queue")
    agent.click(f"tr[data-key='{key}'] a.key")
    agent.wait_for_url(re.compile(rf"/desk/t/{key}$"))
    agent.click("#assign-me")
    agent.wait_for_selector("#assignee:has-text('Alice Agent')")
    shoot(agent, "assigned-to-me")
    agent.fill("#reply-body", "We are on it: a fix for the invoices page is being deployed.")
    agent.click("form.reply button:has-text('Send')")
    agent.wait_for_selector("text=a fix for the invoices page is being deployed")
    shoot(agent, "public-reply")

    customer.goto(f"{base}/portal/t/{key}")
    customer.wait_for_selector("text=a fix for the invoices page is being deployed")
    assert "In progress" in customer.inner_text("#status-words")
    shoot(customer, "customer-sees-reply")
