"""The install base of the security suite's world: an environment of each customer running
Ledger 2.4.1, two released versions above it, and a scheduled deployment on each environment.
Path parameters find them by name (surface.PATH_PARAMS), so World and Side stay as they are."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem
from sustain.releases.models import Deployment, Release, Status

# 2.4.2 is free to schedule (the forms and bodies use it); 2.4.3 is already scheduled.
FREE, SCHEDULED = "2.4.2", "2.4.3"


def environment_name(slug: str) -> str:
    return f"{slug}-env-7731"


def environment(slug: str) -> ConfigItem:
    return ConfigItem.objects.get(name=environment_name(slug))


def deployment(slug: str) -> Deployment:
    return Deployment.objects.filter(environment__name=environment_name(slug)).earliest("id")


def release(name: str = FREE) -> Release:
    return Release.objects.get(version__name=name)


def build_install_base(base: Any, sides: dict[str, Any], markers: list) -> None:
    from tests.security.world import internal, org, text_marker

    root = base.root
    releases = {}
    for name in (FREE, SCHEDULED):
        version = cmdb.add_version(root, base.product, name=name)
        releases[name] = Release.objects.create(
            product=base.product,
            version=version,
            kind="patch",
            status=Status.RELEASED,
            released_at=timezone.now(),
            customer_notes=f"Ledger {name}: fixes.",
        )
    for slug, side in sides.items():
        env = cmdb.create_config_item(
            root,
            organization=side.org,
            name=environment_name(slug),
            kind=ConfigItem.Kind.ENVIRONMENT,
            product=base.product,
            version=base.version,
        )
        Deployment.objects.create(
            release=releases[SCHEDULED],
            environment=env,
            organization=side.org,
            previous_version=base.version,
            note=f"{slug}-deployment-note-7731",
            created_by=root,
        )
        markers.append(text_marker(f"{slug} environment", env.name, org(slug)))
        # Deployment notes are the team's: customers see status and times only.
        markers.append(
            text_marker(f"{slug} deployment note", f"{slug}-deployment-note-7731", internal(slug))
        )
