"""Metric series of the security suite's world: a gauge of each customer's item with a point,
sent through the one door (monitoring.series.ingest) with a machine token of its own.
Path parameters find them by name (surface.PATH_PARAMS), so World and Side stay as they are."""

from __future__ import annotations

from typing import Any

from sustain.monitoring import actions as monitoring
from sustain.monitoring.models import Series
from sustain.monitoring.series import Incoming, ingest

T0_MS = 1_765_100_000_000


def name(slug: str) -> str:
    return f"{slug}_latency_7731"


def series(slug: str) -> Series:
    return Series.objects.get(name=name(slug))


def machine_token(root: Any, organization: Any) -> str:
    """A fresh machine token's secret, for the endpoints machines call."""
    return monitoring.create_machine_token(root, organization, name="zz-machine-7731")[1]


def build_series(base: Any, sides: dict[str, Any], markers: list) -> None:
    from tests.security.world import org, text_marker

    for slug, side in sides.items():
        token, _ = monitoring.create_machine_token(base.root, side.org, name=f"{slug}-series-7731")
        ingest(
            token,
            [
                Incoming(
                    where="series.0",
                    name=name(slug),
                    labels={"route": f"/{slug}-route-7731"},
                    kind="gauge",
                    config_item=side.ci,
                    points=[(T0_MS, 12.5)],
                )
            ],
        )
        markers.append(text_marker(f"{slug} series", name(slug), org(slug)))


def machine_client(world: Any, side: Any) -> Any:
    """A test client signed with a fresh machine token of `side`'s organization, used once
    already (so its last_used_at does not change under a test that compares the tables)."""
    from django.test import Client

    from sustain.monitoring.tokens import machine_token as look_up

    raw = machine_token(world.users["root"], side.org)
    look_up(raw)
    return Client(headers={"Authorization": f"Bearer {raw}"})
