"""Issue 11, "things that are broken", in Chromium: the files of a new ticket in view, saved
filters that keep what is on screen, the API docs from our own files with nothing fetched from
elsewhere, typed input kept with its error in view, and merges and withdrawals that ask first."""

from __future__ import annotations

import re
import struct
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from sustain.demo.world import load_world
from sustain.desk.models import SavedFilter, Status, Ticket, TicketLink
from tests.browser.test_incident_desk import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def png(width: int = 320, height: int = 180) -> bytes:
    """A real PNG the size of a small screenshot: a blue bar on a grey page."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00"
        + b"".join(
            bytes((32, 96, 200) if y < 30 else (235, 238, 242) if x % 40 else (200, 200, 200))
            for x in range(width)
        )
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = png()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
AGENT, CUSTOMER = "alice@sustain.localhost", "carol@acme.example"


def new_page(browser, base: str, email: str, width: int = 1280):
    """A logged-in page that records requests to any other origin and CSP violations."""
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    problems: list[str] = []
    origin = urlsplit(base).netloc

    def outside(request) -> None:
        url = urlsplit(request.url)
        if url.scheme in {"http", "https", "ws", "wss"} and url.netloc != origin:
            problems.append(f"request to {request.url}")

    page.on("request", outside)
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.log('Content Security Policy violation: ' + e.violatedDirective));"
    )
    # Offline: whatever would leave the machine fails, as it would without internet.
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda route: route.abort())
    log_in(page, base, email)
    page.wait_for_load_state("networkidle")
    return page, problems


def in_view(page, selector: str) -> bool:
    """Whether the element is inside the viewport (not scrolled out of sight)."""
    return page.eval_on_selector(
        selector,
        "e => { const r = e.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }",
    )


def image_loaded(page, selector: str) -> bool:
    """Whether the image finishes loading with pixels (it may still be loading when it shows
    up: on a loaded machine the thumbnail request takes a while)."""
    try:
        page.wait_for_function(
            "s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0 }",
            arg=selector,
            timeout=15000,
        )
    except PlaywrightTimeout:
        return False
    return True


def test_the_files_of_a_new_ticket_are_shown_to_customer_and_agent(browser, live_server, shoot):
    load_world(tickets=4)
    base = live_server.url
    customer, problems = new_page(browser, base, CUSTOMER)
    customer.goto(f"{base}/portal/new")
    customer.fill("input[name=title]", "The logo is cut off on the invoice")
    customer.fill("textarea[name=description]", "See the screenshot.")
    customer.set_input_files(
        "input[name=attachment]",
        {"name": "screenshot.png", "mimeType": "image/png", "buffer": PNG},
    )
    customer.click("form button[type=submit].primary")
    customer.wait_for_url(re.compile(r"/portal/t/"))
    thumbnail = ".attachments img[alt='screenshot.png']"
    customer.wait_for_selector(thumbnail)
    assert image_loaded(customer, thumbnail)
    shoot(customer, "portal-ticket-with-screenshot")

    key = customer.url.rstrip("/").rsplit("/", 1)[1]
    agent, agent_problems = new_page(browser, base, AGENT)
    agent.goto(f"{base}/desk/t/{key}")
    agent.wait_for_selector(thumbnail)
    assert image_loaded(agent, thumbnail)
    assert agent.locator(".attachments a[download]").inner_text().endswith("screenshot.png")
    shoot(agent, "desk-ticket-with-screenshot")
    # A click shows the image itself, in the browser.
    agent.click(thumbnail)
    agent.wait_for_url(re.compile(r"/attachments/\d+\?view=1"))
    assert agent.evaluate("document.contentType") == "image/png"
    assert problems + agent_problems == []


def test_a_saved_filter_keeps_the_filters_on_screen(browser, live_server, shoot):
    load_world(tickets=12)
    base = live_server.url
    agent, problems = new_page(browser, base, AGENT)
    agent.goto(f"{base}/desk/?queue=open")
    with agent.expect_response(re.compile(r"/desk/\?.*status=pending")):
        agent.select_option("#filters select[name=status]", "pending")
    agent.fill("input[name=name]", "Pending only")
    agent.click(".save-filter button[type=submit]")
    agent.wait_for_url(re.compile(r"status=pending"))
    agent.wait_for_selector(".queues a:has-text('Pending only')")
    saved = SavedFilter.objects.get(name="Pending only")
    assert parse_qs(saved.query) == {"queue": ["open"], "status": ["pending"]}
    assert agent.input_value("#filters select[name=status]") == "pending"
    shoot(agent, "saved-filter")
    assert problems == []


def test_the_api_docs_render_offline_from_our_own_files(browser, live_server, shoot):
    load_world(tickets=4)
    base = live_server.url
    agent, problems = new_page(browser, base, AGENT)
    agent.goto(f"{base}/api/docs")
    agent.wait_for_selector(".swagger-ui .info .title", timeout=20000)
    agent.wait_for_selector(".opblock", timeout=20000)
    assert "Sustain API" in agent.inner_text(".swagger-ui .info .title")
    assert agent.locator(".opblock").count() > 20
    agent.locator(".opblock-summary").first.click()  # an operation opens, with its parameters
    agent.wait_for_selector(".opblock.is-open .opblock-body")
    shoot(agent, "api-docs")
    # The pages around it load nothing from another origin either.
    for path in ["/desk/", "/bugs/", "/releases/", "/reports/sla", "/sla/calendars"]:
        agent.goto(f"{base}{path}")
        agent.wait_for_load_state("networkidle")
    customer, customer_problems = new_page(browser, base, CUSTOMER)
    customer.goto(f"{base}/portal/")
    customer.wait_for_load_state("networkidle")
    assert problems + customer_problems == []


def test_typed_input_is_kept_and_each_error_shown_beside_its_field(browser, live_server, shoot):
    load_world(tickets=6)
    base = live_server.url
    ticket = (
        Ticket.objects.filter(
            organization__slug="acme", requester__email=CUSTOMER, status__in=["new", "open"]
        ).first()
        or Ticket.objects.filter(organization__slug="acme", status__in=["new", "open"]).first()
    )
    assert ticket is not None

    customer, problems = new_page(browser, base, CUSTOMER)
    customer.goto(f"{base}/portal/t/{ticket.key}")
    customer.fill("#reply-body", "The export still stops at 80 %, log attached.")
    customer.set_input_files(
        "#reply input[name=attachment]",
        {"name": "setup.exe", "mimeType": "application/octet-stream", "buffer": EXE},
    )
    customer.click("#reply button[type=submit]")
    customer.wait_for_selector("#reply-attachment-error")
    assert customer.input_value("#reply-body") == "The export still stops at 80 %, log attached."
    assert in_view(customer, "#reply-attachment-error")
    shoot(customer, "portal-reply-refused-file")

    agent, agent_problems = new_page(browser, base, AGENT, width=1280)
    agent.goto(f"{base}/desk/t/{ticket.key}")
    link_target = "#panel form:has(input[name=kind][value=related]) input[name=target]"
    agent.fill(link_target, "INC-99999")
    agent.click("#panel form:has(input[name=kind][value=related]) button[type=submit]")
    agent.wait_for_selector("#target-error")
    assert agent.input_value(link_target) == "INC-99999"
    assert in_view(agent, "#target-error")
    shoot(agent, "desk-link-refused")

    current = agent.input_value("#panel select[name=priority]")
    other = "1" if current != "1" else "4"
    agent.select_option("#panel select[name=priority]", other)
    agent.fill("#panel input[name=reason]", "")
    agent.click("#panel form:has(select[name=priority]) button[type=submit]")
    agent.wait_for_selector("#reason-error")
    assert agent.input_value("#panel select[name=priority]") == other
    assert in_view(agent, "#reason-error")
    shoot(agent, "desk-priority-refused")

    agent.goto(f"{base}/bugs/new")
    agent.fill("#id_title", "Totals rounded twice")
    agent.select_option("select[name=product]", label="Ledger")
    agent.fill("input[name=component]", "No such part")
    agent.fill("input[name=affected_versions]", "9.9.9")
    agent.click("form.stacked button[type=submit]")
    agent.wait_for_selector(".errorlist")
    text = agent.inner_text("form.stacked")
    assert "No such part" in agent.input_value("input[name=component]")
    assert agent.input_value("#id_title") == "Totals rounded twice"
    assert agent.locator(".errorlist").count() >= 2, text
    shoot(agent, "bug-form-all-errors")
    assert problems + agent_problems == []


def test_merge_and_withdraw_ask_first(browser, live_server, shoot):
    load_world(tickets=8)
    base = live_server.url
    acme_open = Ticket.objects.filter(organization__slug="acme", status__in=["new", "open"])
    into = acme_open.filter(requester__email=CUSTOMER).order_by("id").first()
    assert into is not None
    duplicate = acme_open.exclude(pk=into.pk).order_by("id").first()
    assert duplicate is not None
    agent, problems = new_page(browser, base, AGENT)
    agent.goto(f"{base}/desk/t/{duplicate.key}")
    merge = "#panel form:has(input[name=kind][value=duplicate])"
    agent.fill(f"{merge} input[name=target]", into.key)
    asked: list[str] = []

    def dismiss(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    agent.once("dialog", dismiss)
    agent.click(f"{merge} button[type=submit]")
    agent.wait_for_timeout(500)
    assert asked and "Merge" in asked[0]
    assert not TicketLink.objects.filter(source=duplicate, kind="duplicate").exists()
    shoot(agent, "merge-asked")
    agent.once("dialog", lambda d: d.accept())
    with agent.expect_response(re.compile(r"/link$")):
        agent.click(f"{merge} button[type=submit]")
    agent.wait_for_timeout(300)
    assert TicketLink.objects.filter(source=duplicate, target=into, kind="duplicate").exists()

    # The customer still reads the conversation of the merged ticket, with a link onwards.
    customer, customer_problems = new_page(browser, base, CUSTOMER)
    customer.goto(f"{base}/portal/t/{duplicate.key}")
    assert customer.locator(f"#merged-note a[href='/portal/t/{into.key}']").count() == 1
    shoot(customer, "merged-ticket-for-the-customer")

    # Withdrawing asks too: dismissed, the ticket stays open.
    customer.goto(f"{base}/portal/t/{into.key}")
    withdraw = "button[name=status][value=cancelled]"
    customer.once("dialog", lambda d: d.dismiss())
    customer.click(withdraw)
    customer.wait_for_timeout(500)
    into.refresh_from_db()
    assert into.status != Status.CANCELLED
    customer.once("dialog", lambda d: d.accept())
    customer.click(withdraw)
    customer.wait_for_selector(f"#status-words.status-{Status.CANCELLED}")
    into.refresh_from_db()
    assert into.status == Status.CANCELLED
    shoot(customer, "withdrawn")
    assert problems + customer_problems == []
