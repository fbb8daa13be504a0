"""A manager sets up escalation and on-call in the product: a rule with two levels, a rotation
of three people with an override, sees the shift timeline and acknowledges a page."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from sustain.demo.world import DEMO_PASSWORD, load_world
from sustain.desk.models import Ticket
from sustain.sla import escalation
from sustain.sla.models import EscalationRule, OnCallSchedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")


def fits(page, width: int = 390) -> None:
    """Nothing in the page's content reaches past `width` (the top bar is base.html's)."""
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > "
        f"{width}).slice(0, 5).map(e => e.tagName + '.' + e.className)"
    )
    assert not wide, f"{page.url} is wider than {width} px: {wide}"


def chosen(page, row: int, name: str) -> None:
    """Wait until participant row `row` (re-rendered by the server) has `name` chosen."""
    page.wait_for_selector(
        f"#participant-{row} option[selected]:has-text('{name}')", state="attached"
    )


def test_manager_sets_up_escalation_and_on_call(browser, live_server, shoot):
    load_world(tickets=12)
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, base, "mia@sustain.localhost")
    page.wait_for_url(re.compile(r"/desk/"))

    # An escalation rule with two levels.
    page.goto(f"{base}/sla/escalation")
    page.click("text=New rule")
    page.fill("input[name=name]", "P1 breach: wake people up")
    page.select_option("select[name=condition]", label="SLA breach")
    page.select_option("select[name=priority]", "1")
    page.check("input[name=urgent]")
    page.check("#level-1 input[value=team_lead]")
    page.check("#level-1 input[name=level-0-page]")
    page.click("button[name=add_level]")
    page.wait_for_selector("#level-2")
    assert page.input_value("input[name=name]") == "P1 breach: wake people up"
    page.fill("input[name=level-1-delay_minutes]", "30")
    page.check("#level-2 input[value=managers]")
    page.check("input[name=level-1-raise_priority]")
    page.select_option("select[name=level-1-reassign_team]", label="Platform")
    shoot(page, "escalation-rule-form")
    page.click("button:has-text('Save rule')")
    page.wait_for_url(re.compile(r"/sla/escalation$"))
    page.wait_for_selector("text=after 30 min: notify the managers; reassign to Platform")
    shoot(page, "escalation-rules")
    rule = EscalationRule.objects.get(name="P1 breach: wake people up")
    assert [lv.delay_minutes for lv in rule.levels.order_by("level")] == [0, 30]

    # A rotation of three people; a refusal first keeps what was typed.
    page.goto(f"{base}/sla/oncall")
    page.click("text=New rotation")
    page.fill("input[name=name]", "Platform pager")
    page.select_option("select[name=team]", label="Platform")
    page.select_option("select[name=timezone]", "Europe/Berlin")
    page.fill("input[name=shift_hours]", "24")
    page.fill("input[name=handover]", "09:00")
    yesterday = timezone.localdate() - timedelta(days=1)  # someone is on call right away
    page.fill("input[name=rotation_start]", yesterday.isoformat())
    page.fill("input[name=ack_minutes]", "0")
    page.select_option("#participant-0", label="Alice Agent")
    page.click("button[name=add_participant]")
    page.wait_for_selector("#participant-1")
    page.select_option("#participant-1", label="Bob Builder")
    page.click("button[name=add_participant]")
    page.wait_for_selector("#participant-2")
    page.select_option("#participant-2", label="Mia Manager")
    page.click("button:has-text('Save rotation')")
    page.wait_for_selector("#ack_minutes-error")
    assert page.input_value("input[name=name]") == "Platform pager"
    shoot(page, "rotation-refused")
    page.fill("input[name=ack_minutes]", "10")
    page.click("button[name=participant_up][value='2']")  # Mia before Bob
    chosen(page, 1, "Mia Manager")
    page.click("button[name=participant_down][value='1']")  # and back
    chosen(page, 2, "Mia Manager")
    shoot(page, "rotation-form")
    page.click("button:has-text('Save rotation')")
    page.wait_for_url(re.compile(r"/sla/oncall/\d+$"))
    schedule = OnCallSchedule.objects.get(slug="platform-pager")
    assert [p.user.name for p in schedule.participants.order_by("position")] == [
        "Alice Agent",
        "Bob Builder",
        "Mia Manager",
    ]

    # An override for Bob, two days from now, in the viewer's zone.
    start = timezone.localtime() + timedelta(days=2)
    page.select_option("select[name=user]", label="Bob Builder")
    page.fill("input[name=start]", start.strftime("%Y-%m-%dT09:00"))
    page.fill("input[name=end]", (start + timedelta(days=1)).strftime("%Y-%m-%dT09:00"))
    page.click("button:has-text('Add override')")
    page.wait_for_selector(".overrides li:has-text('Bob Builder')")
    assert page.locator("table.shift-bar").count() == 4
    assert page.locator("table.shift-bar td.ov").count() >= 1
    shoot(page, "rotation-timeline")

    # A page to whoever is on call; the manager acknowledges it.
    ticket = Ticket.objects.filter(priority=1).first() or Ticket.objects.first()
    sent = escalation.page(schedule, ticket, "Checkout is down", timezone.now())
    assert sent is not None
    page.goto(f"{base}/sla/oncall")
    page.wait_for_selector("text=Checkout is down")
    shoot(page, "open-pages")
    # The demo world has open pages of its own: acknowledge this one, and only it goes.
    ours = "#pages li.page:has-text('Checkout is down')"
    page.click(f"{ours} button:has-text('Acknowledge')")
    page.wait_for_selector("#pages .done")
    assert page.locator(ours).count() == 0
    sent.refresh_from_db()
    assert sent.acknowledged_at is not None
    shoot(page, "page-acknowledged")

    # The same pages at phone width.
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(phone, base, "mia@sustain.localhost")
    phone.wait_for_url(re.compile(r"/desk/"))
    for path, name in [
        (f"/sla/oncall/{schedule.pk}", "phone-rotation"),
        (f"/sla/oncall/{schedule.pk}/edit", "phone-rotation-form"),
        (f"/sla/escalation/{rule.pk}", "phone-rule-form"),
        ("/sla/escalation", "phone-rules"),
        ("/sla/oncall", "phone-on-call"),
    ]:
        phone.goto(f"{base}{path}")
        shoot(phone, name)
        fits(phone)
    assert not [e for e in errors if "Content Security Policy" in e], errors
