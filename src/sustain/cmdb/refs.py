"""Products, components, versions and configuration items named from outside (an id, a slug,
a name), among those the actor sees."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sustain.cmdb.models import Component, ConfigItem, Product, Version
from sustain.core import refs


def product(
    actor: Any,
    ref: str | int | None,
    field: str = "product",
    *,
    by: Sequence[str] = ("pk", "slug"),
    missing: str = "No product '{ref}'.",
) -> Product | None:
    """A product by id or slug (`by` in the order a caller documents)."""
    return refs.resolve(actor, Product.objects.all(), ref, by=by, field=field, missing=missing)


def component(
    actor: Any, prod: Product, ref: str | int | None, field: str = "component"
) -> Component | None:
    """A component of `prod` by id or name (any case)."""
    return refs.resolve(
        actor,
        Component.objects.filter(product=prod),
        ref,
        by=("pk", "name__iexact"),
        field=field,
        missing=lambda ref: f"{prod.name} has no component '{ref}'.",
    )


def version(
    actor: Any,
    prod: Product,
    name: str | None,
    field: str,
    *,
    missing: refs.Message = "",
    clean: Callable[[str], str] | None = str.strip,
) -> Version | None:
    """A version of `prod` by its name (stripped, unless `clean` says otherwise)."""
    return refs.resolve(
        actor,
        Version.objects.filter(product=prod),
        name,
        by=("name",),
        clean=clean,
        field=field,
        missing=missing or (lambda ref: f"{prod.name} has no version '{ref}'."),
    )


def config_item(actor: Any, ref: int | str | None, field: str = "affected_ci") -> ConfigItem | None:
    """A configuration item by id."""
    return refs.resolve(
        actor,
        ConfigItem.objects.all(),
        ref,
        by=("pk",),
        field=field,
        missing="No configuration item {ref}.",
    )
