"""The releases of the security suite's world: Ledger 2.4.4 in testing (staff only: customers
see released versions alone), carrying one bug added by hand and one change; a second bug of
Ledger is free to add. Path parameters find them by name, so World and Side stay as they are."""

from __future__ import annotations

from typing import Any

from sustain.bugs.models import Bug
from sustain.releases import actions
from sustain.releases.models import Release, ReleaseChange

VERSION = "2.4.4"
INCLUDED, FREE = "BUG-77311", "BUG-77312"


def release() -> Release:
    return Release.objects.get(version__name=VERSION)


def change() -> ReleaseChange:
    return ReleaseChange.objects.get(release__version__name=VERSION)


def build_releases(base: Any, markers: list) -> None:
    from tests.security.world import STAFF, text_marker

    root = base.root
    for key in (INCLUDED, FREE):
        Bug.objects.create(key=key, title=f"Ledger defect {key} 7731", product=base.product)
    planned = actions.create_release(
        root, product=base.product, version=VERSION, kind="patch", summary="zz-summary-7731"
    )
    actions.add_bug(root, planned, Bug.objects.get(key=INCLUDED))
    actions.add_change(root, planned, title="Internal rework 7731", is_public=False)
    actions.transition(root, planned, "testing")
    markers.append(text_marker("release in testing", "zz-summary-7731", STAFF))
