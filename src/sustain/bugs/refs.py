"""Turn references from outside (slug, name, id, key) into rows of the bug tracker.

Products, components and versions are `cmdb.refs`; everything goes through `core.refs`, so
only what the actor may see is found."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sustain.bugs.models import Bug
from sustain.cmdb import refs as cmdb_refs
from sustain.cmdb.models import ConfigItem, Product, Version
from sustain.core import refs
from sustain.core.errors import Invalid


def required_product(actor: Any, ref: str | int | None, field: str = "product") -> Product:
    found = cmdb_refs.product(actor, ref, field)
    if found is None:
        raise Invalid("A product is required.", field=field)
    return found


def versions(
    actor: Any, prod: Product, names: Iterable[str], field: str = "affected_versions"
) -> list[Version]:
    found = (cmdb_refs.version(actor, prod, n, field) for n in names)
    return [v for v in found if v is not None]


def release(actor: Any, prod: Product, name: str | None, field: str = "target_release") -> Any:
    """A release of the product, by its version's name."""
    from sustain.releases.models import Release

    return refs.resolve(
        actor,
        Release.objects.filter(product=prod),
        name,
        by=("version__name",),
        clean=str.strip,
        field=field,
        missing=lambda ref: f"{prod.name} has no release '{ref}'.",
    )


def environment(actor: Any, ref: Any, field: str = "environment") -> Any:
    """A configuration item the actor may see (any organization's, for staff), by id."""
    return refs.resolve(
        actor,
        ConfigItem.objects.all(),
        ref,
        by=("pk",),
        field=field,
        missing="No such configuration item.",
    )


def required_ticket(actor: Any, key: str | None, field: str = "ticket") -> Any:
    """A ticket the actor may see. The message does not repeat the key: pages show it again
    after the post, and a key of a customer one does not serve is theirs."""
    from sustain.desk.models import Ticket

    message = "No such ticket among those you serve."
    return refs.require(
        actor,
        Ticket.objects.all(),
        key,
        by=("key",),
        clean=lambda key: key.strip().upper(),
        field=field,
        missing=message,
        required=message,
    )


def bug(actor: Any, key: str | None, field: str) -> Bug | None:
    return refs.resolve(
        actor,
        Bug.objects.all(),
        key,
        by=("key",),
        clean=lambda key: key.strip().upper(),
        field=field,
        missing="No bug {ref}.",
    )


def required_bug(actor: Any, key: str | None, field: str) -> Bug:
    found = bug(actor, key, field)
    if found is None:
        raise Invalid("A bug key is required.", field=field)
    return found


def fields(actor: Any, data: dict[str, Any], product: Any) -> dict[str, Any]:
    """References in a body turned into rows (only the keys present)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "component":
            out[key] = cmdb_refs.component(actor, product, value)
        elif key == "affected_versions":
            out[key] = versions(actor, product, value)
        elif key == "environment":
            out[key] = environment(actor, value)
        elif key == "target_release":
            out[key] = release(actor, product, value)
        elif key in ("team", "assignee"):
            continue
        else:
            out[key] = value
    return out
