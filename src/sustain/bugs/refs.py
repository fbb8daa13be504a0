"""Turn references from outside (slug, name, id, key) into rows of the bug tracker."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sustain.bugs.models import Bug
from sustain.cmdb.models import Component, Product, Version
from sustain.core.errors import Invalid
from sustain.core.ids import as_id
from sustain.core.tenancy import visible


def product(ref: str | int | None, field: str = "product") -> Product | None:
    if ref in (None, ""):
        return None
    pk = as_id(ref)
    found = (Product.objects.filter(pk=pk).first() if pk is not None else None) or (
        Product.objects.filter(slug=str(ref)).first()
    )
    if found is None:
        raise Invalid(f"No product '{ref}'.", field=field)
    return found


def required_product(ref: str | int | None, field: str = "product") -> Product:
    found = product(ref, field)
    if found is None:
        raise Invalid("A product is required.", field=field)
    return found


def component(prod: Product, ref: str | int | None, field: str = "component") -> Component | None:
    if ref in (None, ""):
        return None
    pk = as_id(ref)
    qs = Component.objects.filter(product=prod)
    found = (qs.filter(pk=pk).first() if pk is not None else None) or qs.filter(
        name__iexact=str(ref)
    ).first()
    if found is None:
        raise Invalid(f"{prod.name} has no component '{ref}'.", field=field)
    return found


def version(prod: Product, name: str | None, field: str) -> Version | None:
    if name in (None, ""):
        return None
    found = Version.objects.filter(product=prod, name=str(name).strip()).first()
    if found is None:
        raise Invalid(f"{prod.name} has no version '{name}'.", field=field)
    return found


def versions(prod: Product, names: Iterable[str], field: str = "affected_versions") -> list[Any]:
    return [v for v in (version(prod, n, field) for n in names) if v is not None]


def release(prod: Product, name: str | None, field: str = "target_release") -> Any:
    """A release of the product, by its version's name."""
    if name in (None, ""):
        return None
    from sustain.releases.models import Release

    found = Release.objects.filter(product=prod, version__name=str(name).strip()).first()
    if found is None:
        raise Invalid(f"{prod.name} has no release '{name}'.", field=field)
    return found


def environment(actor: Any, ref: Any, field: str = "environment") -> Any:
    """A configuration item the actor may see (any organization's, for staff), by id."""
    if ref in (None, ""):
        return None
    from sustain.cmdb.models import ConfigItem

    pk = as_id(ref)
    found = visible(ConfigItem.objects.all(), actor).filter(pk=pk).first() if pk else None
    if found is None:
        raise Invalid("No such configuration item.", field=field)
    return found


def required_ticket(actor: Any, key: str | None, field: str = "ticket") -> Any:
    """A ticket the actor may see. The message does not repeat the key: pages show it again
    after the post, and a key of a customer one does not serve is theirs."""
    from sustain.desk.models import Ticket

    found = (
        visible(Ticket.objects.all(), actor).filter(key=str(key).strip().upper()).first()
        if key
        else None
    )
    if found is None:
        raise Invalid("No such ticket among those you serve.", field=field)
    return found


def bug(actor: Any, key: str | None, field: str) -> Bug | None:
    if not key:
        return None
    found = visible(Bug.objects.all(), actor).filter(key=str(key).strip().upper()).first()
    if found is None:
        raise Invalid(f"No bug {key}.", field=field)
    return found


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
            out[key] = component(product, value)
        elif key == "affected_versions":
            out[key] = versions(product, value)
        elif key == "environment":
            out[key] = environment(actor, value)
        elif key == "target_release":
            out[key] = release(product, value)
        elif key in ("team", "assignee"):
            continue
        else:
            out[key] = value
    return out
