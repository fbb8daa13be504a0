"""The manager sets up SLAs in the product: a business calendar (week grid, time zone, the
public holidays of Bavaria imported) and a policy (targets per priority), and the tickets
already open get their clocks; the pages fit a phone."""

import re

import pytest

from sustain.demo.world import DEMO_PASSWORD, load_world
from sustain.desk.models import OPEN_STATUSES, Ticket
from sustain.sla.models import Calendar, Clock, Holiday, Policy, RecomputeRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_manager_sets_up_a_calendar_and_a_policy_and_open_tickets_get_clocks(
    browser, live_server, shoot
):
    load_world(tickets=8)
    # A install before any SLA: the demo's generated policy and its clocks are gone.
    Clock.objects.all().delete()
    Policy.objects.all().delete()
    Calendar.objects.all().delete()
    open_keys = list(Ticket.objects.filter(status__in=OPEN_STATUSES).values_list("key", flat=True))
    assert open_keys
    base = live_server.url

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, base, "mia@sustain.localhost")
    page.wait_for_url(re.compile(r"/desk/"))
    page.click("header nav >> text=SLA")
    page.wait_for_url(re.compile(r"/sla/calendars$"))
    shoot(page, "sla-empty")

    # The calendar: Berlin, Monday split around lunch, the rest of the week 9 to 5.
    page.click("text=New calendar")
    page.fill("input[name=name]", "Munich office")
    page.select_option("select[name=timezone]", "Europe/Berlin")
    monday = page.locator(".day[data-day=mon]")
    monday.locator("button[data-add-interval]").click()
    assert monday.locator(".interval").count() == 2
    monday.locator("input[name=mon_end]").nth(0).fill("12:00")
    monday.locator("input[name=mon_start]").nth(1).fill("13:00")
    monday.locator("input[name=mon_end]").nth(1).fill("18:00")
    friday = page.locator(".day[data-day=fri]")
    friday.locator("input[name=fri_end]").fill("15:00")
    shoot(page, "calendar-grid")
    page.click("button:has-text('Add calendar')")
    page.wait_for_url(re.compile(r"/sla/calendars/\d+/edit$"))
    calendar = Calendar.objects.get(name="Munich office")
    assert calendar.timezone == "Europe/Berlin"
    assert calendar.hours["mon"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert calendar.hours["fri"] == [["09:00", "15:00"]]

    # A bad interval is refused beside its day, what was typed kept.
    page.locator("input[name=tue_end]").fill("08:00")
    page.click("button:has-text('Save calendar')")
    page.wait_for_selector(".day[data-day=tue] .errorlist")
    assert page.locator("input[name=tue_end]").input_value() == "08:00"
    shoot(page, "calendar-refused")
    page.locator("input[name=tue_end]").fill("17:00")
    page.click("button:has-text('Save calendar')")
    page.wait_for_selector("text=Calendar Munich office saved.")

    # Bavaria's public holidays for two years, the region list following the country (htmx).
    page.select_option("select[name=country]", "DE")
    page.wait_for_selector("select[name=subdivision] option[value=BY]", state="attached")
    page.select_option("select[name=subdivision]", "BY")
    page.fill("input[name=year]", "2026")
    page.fill("input[name=until]", "2027")
    page.click("button:has-text('Import holidays')")
    page.wait_for_selector("#holidays li:has-text('Epiphany')")
    assert Holiday.objects.filter(calendar=calendar).count() > 20
    shoot(page, "holidays-imported")

    # The policy: targets per priority, the calendar by name.
    page.goto(f"{base}/sla/calendars")
    page.click("text=New policy")
    page.fill("input[name=name]", "Standard support")
    page.select_option("select[name=calendar]", label="Munich office")
    for priority, first, resolution in ((1, 15, 240), (2, 30, 480), (3, 60, 960), (4, 120, 2400)):
        page.fill(f"input[name=target_{priority}_first_response]", str(first))
        page.fill(f"input[name=target_{priority}_resolution]", str(resolution))
    page.fill("input[name=warn_percent]", "80")
    assert page.locator("input[name=pause_statuses][value=pending]").is_checked()
    shoot(page, "policy-form")
    page.click("button:has-text('Add policy')")
    page.wait_for_url(re.compile(r"/sla/calendars$"))
    page.wait_for_selector("#recompute .done")
    progress = page.locator("#recompute").inner_text()
    assert f"{len(open_keys)} open ticket" in progress, progress
    shoot(page, "policy-added-clocks-recomputed")
    run = RecomputeRun.objects.get(reason="Policy Standard support added")
    assert (run.total, run.done) == (len(open_keys), len(open_keys))

    # Every ticket that was open before the policy now has its clocks.
    policy = Policy.objects.get(name="Standard support")
    measured = set(Clock.objects.filter(policy=policy).values_list("ticket__key", flat=True))
    assert measured == set(open_keys)
    page.goto(f"{base}/desk/t/{open_keys[0]}")
    page.wait_for_selector(".clocks li")
    assert "Resolution" in page.locator(".clocks").inner_text()
    shoot(page, "ticket-with-clocks")

    # The set-up pages on a phone.
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(phone, base, "mia@sustain.localhost")
    phone.wait_for_url(re.compile(r"/desk/"))
    for path, name in (
        (f"/sla/calendars/{calendar.pk}/edit", "phone-calendar"),
        (f"/sla/policies/{policy.pk}/edit", "phone-policy"),
        ("/sla/calendars", "phone-sla"),
    ):
        phone.goto(f"{base}{path}")
        shoot(phone, name)
        assert fits(phone), f"{path} scrolls sideways at 390 px"
