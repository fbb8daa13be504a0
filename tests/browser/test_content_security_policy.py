"""Under the Content-Security-Policy the pages still work in a real browser: no violation is
reported, nothing is fetched from another origin, the API docs render from our own files, and
the two behaviours that were inline handlers (confirm a delete, submit on change) still run."""

import re
from urllib.parse import urlsplit

import pytest

from sustain.accounts.models import User
from sustain.demo.world import load_world
from sustain.hooks.models import Subscription
from tests.browser.test_incident_desk import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watched(browser, base: str):
    """A page that records CSP violations and requests to any other origin."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    problems: list[str] = []
    origin = urlsplit(base).netloc
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on(
        "request",
        lambda r: (
            problems.append(f"request to {r.url}")
            if urlsplit(r.url).scheme in {"http", "https"} and urlsplit(r.url).netloc != origin
            else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.log('Content Security Policy violation: ' + e.violatedDirective"
        " + ' ' + e.blockedURI));"
    )
    return page, problems


def test_pages_work_under_the_policy(browser, live_server, shoot):
    load_world(tickets=6)
    base = live_server.url
    mia = User.objects.get(email="mia@sustain.localhost")
    hook = Subscription.objects.create(
        name="ci", url="https://receiver.example/hook", secret="s" * 32, owner=mia
    )

    agent, problems = watched(browser, base)
    log_in(agent, base, "mia@sustain.localhost")
    agent.wait_for_url(re.compile(r"/desk/"))
    for path in ["/desk/", "/reports/sla", "/bugs/", "/releases/", "/sla/calendars"]:
        agent.goto(f"{base}{path}")
        agent.wait_for_load_state("networkidle")
    shoot(agent, "reports")

    agent.goto(f"{base}/api/docs")
    agent.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    agent.wait_for_selector(".opblock", timeout=15000)
    assert "Sustain API" in agent.inner_text(".swagger-ui .info .title")
    shoot(agent, "api-docs")

    # The delete button asks first (forms.js): dismissed, the webhook stays; accepted, it goes.
    agent.goto(f"{base}/webhooks/{hook.pk}")
    agent.once("dialog", lambda d: d.dismiss())
    agent.click("button:has-text('Delete')")
    agent.wait_for_timeout(300)
    assert Subscription.objects.filter(pk=hook.pk).exists()
    agent.once("dialog", lambda d: d.accept())
    agent.click("button:has-text('Delete')")
    agent.wait_for_url(re.compile(r"/webhooks/$"))
    assert not Subscription.objects.filter(pk=hook.pk).exists()

    customer, customer_problems = watched(browser, base)
    log_in(customer, base, "carol@acme.example")
    customer.wait_for_url(re.compile(r"/portal/$"))
    customer.select_option("select[name=show]", "all")  # submits its form by itself
    customer.wait_for_url(re.compile(r"show=all"))
    shoot(customer, "portal-all")

    admin, admin_problems = watched(browser, base)
    log_in(admin, base, "admin@sustain.localhost")
    admin.goto(f"{base}/admin/hooks/subscription/add/")
    admin.wait_for_load_state("networkidle")
    shoot(admin, "admin-add")
    # The Django admin's own scripts load (its nav sidebar toggle is built by nav_sidebar.js).
    assert admin.locator("#toggle-nav-sidebar").count() == 1

    assert problems + customer_problems + admin_problems == []
