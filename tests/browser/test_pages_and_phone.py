"""Every page as each role, in Chromium, on the demo world: a crawl of every same-origin link
from the landing page finds no 4xx/5xx; no page loads anything from another origin; at a
phone's 390 px no main page scrolls sideways and the top navigation folds into a menu."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from sustain.demo.world import DEMO_PASSWORD, load_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = {
    "agent": "alice@sustain.localhost",
    "manager": "mia@sustain.localhost",
    "admin": "admin@sustain.localhost",
    "customer": "carol@acme.example",
}
PAGES_PER_ROLE = 400
VARIANTS_PER_PATH = 4  # /desk/?queue=… and such: a few of each path, then breadth
SKIPPED = re.compile(r"^/(admin/|logout|static/|api/v1/)")
PHONE = 390


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def links_of(html: str, url: str, origin: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        absolute = urljoin(url, href).split("#")[0]
        parts = urlsplit(absolute)
        if parts.scheme in ("http", "https") and parts.netloc == origin:
            found.append(absolute)
    return found


def log_in(context, base: str, email: str):
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login/" not in page.url, f"{email} could not log in"
    return page


def crawl(context, start: str) -> tuple[dict[str, int], list[str], set[str]]:
    """Breadth first over same-origin links, with the role's session (the browser's own
    request context: its cookies, no rendering). Returns each URL's status, the order, and
    which answered with a page (not a download)."""
    origin = urlsplit(start).netloc
    seen, order, per_path = {start}, [], {}
    queue = deque([start])
    statuses: dict[str, int] = {}
    pages: set[str] = set()
    while queue and len(order) < PAGES_PER_ROLE:
        url = queue.popleft()
        response = context.request.get(url, max_redirects=5)
        statuses[url] = response.status
        order.append(url)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        pages.add(url)
        for link in links_of(response.text(), response.url, origin):
            path = urlsplit(link).path
            if link in seen or SKIPPED.match(path):
                continue
            if per_path.get(path, 0) >= VARIANTS_PER_PATH:
                continue
            per_path[path] = per_path.get(path, 0) + 1
            seen.add(link)
            queue.append(link)
    return statuses, order, pages


@pytest.fixture
def world(live_server):
    load_world(tickets=24)
    return live_server.url


def shape(url: str) -> str:
    """A page's kind: /desk/t/INC-1004 and /desk/t/INC-1010 are one shape, as are /bugs/b/…"""
    path = urlsplit(url).path
    return re.sub(r"[A-Z]+-\d+|\d+", "N", path)


def too_wide_on_a_phone(page, urls: list[str]) -> list[str]:
    page.set_viewport_size({"width": PHONE, "height": 844})
    wide = []
    for url in urls:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE:
            wide.append(f"{url} is {width} px wide")
    return wide


def test_every_link_as_each_role_answers_and_every_kind_of_page_fits_a_phone(browser, world):
    broken: list[str] = []
    wide: list[str] = []
    for role, email in ROLES.items():
        context = browser.new_context()
        page = log_in(context, world, email)
        statuses, order, pages = crawl(context, page.url)
        assert len(order) > (8 if role == "customer" else 40), f"{role} reached only {order}"
        broken += [f"{role}: {status} {url}" for url, status in statuses.items() if status >= 400]
        # One page of each kind (the API docs are Swagger UI's page, not ours).
        kinds = {shape(u): u for u in reversed(order) if u in pages and statuses[u] < 400}
        ours = [u for u in kinds.values() if not urlsplit(u).path.startswith("/api/")]
        wide += [f"{role}: {w}" for w in too_wide_on_a_phone(page, ours)]
        context.close()
    assert not broken, "\n".join(broken)
    assert not wide, "\n".join(wide)


def watch_origins(page, origin: str) -> list[str]:
    foreign: list[str] = []

    def seen(request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != origin:
            foreign.append(f"{page.url} loaded {request.url}")

    page.on("request", seen)
    return foreign


def main_pages(page, base: str) -> list[str]:
    """The landing page, each link of the top navigation, and the first item of each list."""
    page.goto(base + "/")
    nav = [a.get_attribute("href") for a in page.locator("header.top nav a").all()]
    # The admin is Django's; /api/docs is Swagger UI's page (ninja's template), not ours.
    ours = [h for h in nav if h and not h.startswith(("/admin/", "/api/"))]
    pages = [page.url] + [urljoin(base, h) for h in [*ours, "/settings/notifications"]]
    firsts = []
    for url in pages:
        page.goto(url)
        for pattern in (
            "a.key[href*='/t/']",
            "a[href*='/bugs/b/']",
            "a.key[href^='/releases/']",
            "a[href^='/environments/']",
            "a[href^='/portal/environments/']",
            "a[href^='/mail/']",
        ):
            link = page.locator(f"main {pattern}").first
            if link.count():
                firsts.append(urljoin(base, link.get_attribute("href") or ""))
    return list(dict.fromkeys(pages + firsts))


def test_no_page_loads_from_another_origin_and_phones_never_scroll_sideways(browser, world, shoot):
    origin = urlsplit(world).netloc
    foreign: list[str] = []
    too_wide: list[str] = []
    for role, email in ROLES.items():
        context = browser.new_context(viewport={"width": PHONE, "height": 844}, is_mobile=True)
        page = log_in(context, world, email)
        foreign += watch_origins(page, origin)
        for url in main_pages(page, world):
            page.goto(url)
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE:
                too_wide.append(f"{role}: {url} is {width} px wide")
            name = urlsplit(url).path.strip("/").replace("/", "-") or "home"
            shoot(page, f"{role}-{name}"[:80])
        context.close()
    assert not foreign, "\n".join(foreign)
    assert not too_wide, "\n".join(too_wide)


def test_the_top_navigation_folds_into_a_menu_on_a_phone(browser, world, shoot):
    context = browser.new_context(viewport={"width": PHONE, "height": 844}, is_mobile=True)
    page = log_in(context, world, ROLES["agent"])
    releases = page.locator("header.top nav a", has_text="Releases")
    assert not releases.is_visible()  # folded away
    page.click("header.top .menu-toggle")
    releases.wait_for(state="visible")
    shoot(page, "agent-menu-open")
    releases.click()
    page.wait_for_url(re.compile(r"/releases/"))
    wide = log_in(
        browser.new_context(viewport={"width": 1280, "height": 900}), world, ROLES["agent"]
    )
    assert wide.locator("header.top nav a", has_text="Bugs").is_visible()  # laptops: all shown
    assert not wide.locator("header.top .menu-toggle").is_visible()
    context.close()
