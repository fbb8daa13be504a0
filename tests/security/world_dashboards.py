"""Dashboard pins of the security suite's world: each customer's series pinned on its
organization's dashboard, titled with a marker. Path parameters find them by title
(surface.PATH_PARAMS), so World and Side stay as they are."""

from __future__ import annotations

from typing import Any

from sustain.monitoring import dashboards
from sustain.monitoring.models import DashboardPin
from tests.security import world_series


def title(slug: str) -> str:
    return f"{slug} pinned chart 7731"


def pin(slug: str) -> DashboardPin:
    return DashboardPin.objects.get(title=title(slug))


def build_pins(base: Any, sides: dict[str, Any], markers: list) -> None:
    from tests.security.world import org, text_marker

    for slug in sides:
        dashboards.pin_series(base.root, world_series.series(slug), title=title(slug))
        markers.append(text_marker(f"{slug} dashboard pin", title(slug), org(slug)))
