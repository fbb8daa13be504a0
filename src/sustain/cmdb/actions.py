"""Changes to the CMDB: products, versions and configuration items."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from sustain.accounts.actions import make_slug, require_admin, require_agent
from sustain.accounts.models import Organization, User
from sustain.cmdb import semver
from sustain.cmdb.models import Component, ConfigItem, Product, Relation, Version
from sustain.core import events, tenancy
from sustain.core.errors import Conflict, Invalid, refuse_unknown


def create_product(actor: User, *, name: str, slug: str = "", description: str = "") -> Product:
    require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise Invalid("A name is required.", field="name")
    slug = make_slug(name, slug)
    with transaction.atomic():
        if Product.objects.filter(slug=slug).exists() or Product.objects.filter(name=name).exists():
            raise Conflict(f"A product named '{name}' exists.", field="name")
        product = Product.objects.create(name=name, slug=slug, description=description)
        events.record(product, "created", actor=actor, after={"name": name})
    return product


def add_component(actor: User, product: Product, *, name: str) -> Component:
    require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise Invalid("A name is required.", field="name")
    with transaction.atomic():
        if product.components.filter(name=name).exists():
            raise Conflict(f"{product.name} already has a component '{name}'.", field="name")
        component = Component.objects.create(product=product, name=name)
        events.record(product, "component_added", actor=actor, after={"component": name})
    return component


def add_version(actor: User, product: Product, *, name: str, released_at: Any = None) -> Version:
    require_admin(actor)
    parsed = semver.parse(name)
    if parsed is None:
        raise Invalid(f"'{name}' is not a semantic version (MAJOR.MINOR.PATCH).", field="name")
    with transaction.atomic():
        if product.versions.filter(name=name).exists():
            raise Conflict(f"{product.name} {name} exists.", field="name")
        return write_version(actor, product, name=name, parsed=parsed, released_at=released_at)


def write_version(
    actor: User,
    product: Product,
    *,
    name: str,
    parsed: tuple[int, int, int, str],
    released_at: Any = None,
) -> Version:
    """The version row and its event, inside the caller's transaction, for callers that have
    checked permission and the name (an admin adding it, an agent planning a release)."""
    major, minor, patch, prerelease = parsed
    version = Version.objects.create(
        product=product,
        name=name.strip(),
        major=major,
        minor=minor,
        patch=patch,
        prerelease=prerelease,
        released_at=released_at,
    )
    events.record(product, "version_added", actor=actor, after={"version": version.name})
    return version


def _check_ci_fields(
    organization: Organization, product: Product | None, version: Version | None
) -> None:
    if version is not None and product is None:
        raise Invalid("A version needs its product.", field="version")
    if version is not None and product is not None and version.product_id != product.pk:
        raise Invalid(
            f"Version {version.name} is not a version of {product.name}.", field="version"
        )


def create_config_item(
    actor: User,
    *,
    organization: Organization,
    name: str,
    kind: str,
    product: Product | None = None,
    version: Version | None = None,
    description: str = "",
    attributes: dict | None = None,
    status: str = ConfigItem.Status.ACTIVE,
) -> ConfigItem:
    require_agent(actor)
    if not tenancy.can_see_organization(actor, organization.pk):
        raise Invalid("You do not serve this organization.", field="organization")
    name = (name or "").strip()
    if not name:
        raise Invalid("A name is required.", field="name")
    if kind not in ConfigItem.Kind.values:
        raise Invalid(f"Kind must be one of {', '.join(ConfigItem.Kind.values)}.", field="kind")
    if status not in ConfigItem.Status.values:
        raise Invalid(
            f"Status must be one of {', '.join(ConfigItem.Status.values)}.", field="status"
        )
    _check_ci_fields(organization, product, version)
    with transaction.atomic():
        if ConfigItem.objects.filter(organization=organization, name=name).exists():
            raise Conflict(f"{organization.name} already has an item named '{name}'.", field="name")
        item = ConfigItem.objects.create(
            organization=organization,
            name=name,
            kind=kind,
            product=product,
            version=version,
            description=description,
            attributes=attributes or {},
            status=status,
        )
        events.record(
            item,
            "created",
            actor=actor,
            after={"name": name, "kind": kind, "version": version.name if version else None},
        )
    return item


def update_config_item(actor: User, item: ConfigItem, **changes: Any) -> ConfigItem:
    require_agent(actor)
    allowed = {"name", "status", "product", "version", "description", "attributes"}
    refuse_unknown(changes, allowed)
    if "status" in changes and changes["status"] not in ConfigItem.Status.values:
        raise Invalid("Unknown status.", field="status")
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"]:
            raise Invalid("A name is required.", field="name")
    product = changes.get("product", item.product)
    version = changes.get("version", item.version)
    _check_ci_fields(item.organization, product, version)

    def snapshot() -> dict:
        return {
            k: (str(getattr(item, k)) if k in {"product", "version"} else getattr(item, k))
            for k in changes
        }

    with transaction.atomic():
        taken = ConfigItem.objects.filter(
            organization=item.organization_id, name=changes.get("name")
        )
        if "name" in changes and taken.exclude(pk=item.pk).exists():
            raise Conflict(
                f"{item.organization.name} already has an item named '{changes['name']}'.",
                field="name",
            )
        before = snapshot()
        for key, value in changes.items():
            setattr(item, key, value)
        item.save()
        old, new = events.changes(before, snapshot())
        events.record(item, "updated", actor=actor, before=old, after=new)
    return item


def relate(actor: User, source: ConfigItem, target: ConfigItem, kind: str) -> Relation:
    require_agent(actor)
    if kind not in Relation.Kind.values:
        raise Invalid(f"Kind must be one of {', '.join(Relation.Kind.values)}.", field="kind")
    if source.pk == target.pk:
        raise Invalid("An item cannot relate to itself.", field="target")
    with transaction.atomic():
        relation, created = Relation.objects.get_or_create(source=source, target=target, kind=kind)
        if not created:
            raise Conflict("This relation exists.", field="target")
        events.record(source, "related", actor=actor, after={"kind": kind, "target": target.name})
    return relation
