"""Configuration documents of the security suite's world: one of each customer's item with two
versions (so a rollback has somewhere to go) and an observed copy that drifts. Staff's only
(customers see no configuration documents); path parameters find them by name
(surface.PATH_PARAMS), so World and Side stay as they are."""

from __future__ import annotations

from typing import Any

from sustain.cmdb import configs
from sustain.cmdb.models import ConfigDocument


def name(slug: str) -> str:
    return f"{slug}-app-7731.conf"


def document(slug: str) -> ConfigDocument:
    return ConfigDocument.objects.get(name=name(slug))


def build_configs(base: Any, sides: dict[str, Any], markers: list) -> None:
    from tests.security.world import internal, text_marker

    for slug, side in sides.items():
        made = configs.create_document(
            base.root, side.ci, name=name(slug), text=f"host = {slug}-db-7731\n"
        )
        configs.save_version(base.root, made, text=f"host = {slug}-db-7731\nport = 5432\n")
        configs.observe(base.root, side.ci, name=name(slug), text=f"host = {slug}-drift-7731\n")
        markers.append(text_marker(f"{slug} configuration document", name(slug), internal(slug)))
        markers.append(text_marker(f"{slug} drifted text", f"{slug}-drift-7731", internal(slug)))
