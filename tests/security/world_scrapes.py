"""Scrape jobs of the security suite's world: an active and a paused job of each customer
(never scraped: their hosts do not resolve, and no test runs the scheduler). Path parameters
find them by name (surface.PATH_PARAMS), so World and Side stay as they are."""

from __future__ import annotations

from typing import Any

from sustain.monitoring import scrapes
from sustain.monitoring.models import ScrapeJob


def name(slug: str, paused: bool = False) -> str:
    return f"{slug}-{'paused-' if paused else ''}scrape-7731"


def job(slug: str, paused: bool = False) -> ScrapeJob:
    return ScrapeJob.objects.get(name=name(slug, paused))


def build_scrapes(base: Any, sides: dict[str, Any], markers: list) -> None:
    from tests.security.world import org, text_marker

    for slug, side in sides.items():
        for paused in (False, True):
            made = scrapes.create_scrape_job(
                base.root,
                side.org,
                name=name(slug, paused),
                url=f"https://{slug}-metrics-7731.example.test/metrics",
                labels={"zz_label": f"{slug}-scrape-label-7731"},
                config_item=side.ci,
            )
            if paused:
                scrapes.pause_scrape_job(base.root, made)
        markers.append(text_marker(f"{slug} scrape job", name(slug), org(slug)))
        markers.append(text_marker(f"{slug} paused scrape job", name(slug, True), org(slug)))
        markers.append(
            text_marker(f"{slug} scrape url", f"{slug}-metrics-7731.example.test", org(slug))
        )
