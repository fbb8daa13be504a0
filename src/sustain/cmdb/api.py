"""REST endpoints for products, versions, components, configuration items and relations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from sustain.accounts.actions import resolve_organization
from sustain.cmdb import actions, refs
from sustain.cmdb.models import ConfigItem, Product, Relation, Version
from sustain.core.api import Id, Input, Page, Patch, UtcDateTime
from sustain.core.errors import Invalid
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.core.refs import resolve_or_404
from sustain.core.tenancy import visible

router = Router(tags=["cmdb"])


class VersionOut(Schema):
    id: int
    name: str
    released_at: datetime | None


class ProductOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    components: list[str]
    versions: list[VersionOut]

    @staticmethod
    def resolve_components(product: Product) -> list[str]:
        return [c.name for c in product.components.all()]

    @staticmethod
    def resolve_versions(product: Product) -> list[Version]:
        return list(product.versions.all())


class ProductIn(Input):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field("", max_length=60, pattern=r"^[-a-zA-Z0-9_]*$")
    description: str = Field("", max_length=10000)


class VersionIn(Input):
    name: str = Field(min_length=5, max_length=60)
    released_at: UtcDateTime | None = None


class ComponentIn(Input):
    name: str = Field(min_length=1, max_length=200)


class ComponentOut(Schema):
    name: str


class ConfigItemOut(Schema):
    id: int
    organization: str = Field(alias="organization.slug")
    name: str
    kind: str
    status: str
    product: str | None = Field(None, alias="product.slug")
    version: str | None = Field(None, alias="version.name")
    description: str
    attributes: dict[str, Any]
    created_at: datetime


class ConfigItemIn(Input):
    organization: int | str
    name: str = Field(min_length=1, max_length=200)
    kind: ConfigItem.Kind
    status: ConfigItem.Status = ConfigItem.Status.ACTIVE
    product: str | None = None
    version: str | None = None
    description: str = Field("", max_length=10000)
    attributes: dict[str, Any] = {}


class ConfigItemPatch(Patch):
    clearable = frozenset({"product", "version"})

    name: str | None = Field(None, min_length=1, max_length=200)
    status: ConfigItem.Status | None = None
    product: str | None = None
    version: str | None = None
    description: str | None = Field(None, max_length=10000)
    attributes: dict[str, Any] | None = None


class RelationIn(Input):
    target: int
    kind: Relation.Kind


class RelationOut(Schema):
    id: int
    source: int = Field(alias="source_id")
    target: int = Field(alias="target_id")
    kind: str


class ListFilters(Schema):
    q: str | None = Field(None, max_length=200)
    cursor: str | None = None
    limit: int | None = Field(None, ge=1, le=200)


class ConfigItemFilters(ListFilters):
    organization: str | None = None
    kind: ConfigItem.Kind | None = None
    product: str | None = None


def _version(actor: Any, product: Product | None, name: str | None) -> Version | None:
    if not name:
        return None
    if product is None:
        raise Invalid("A version needs its product.", field="version")
    return refs.version(
        actor,
        product,
        name,
        "version",
        clean=None,
        missing=lambda ref: f"{product.name} has no version {ref}.",
    )


@router.get("/products", response=Page[ProductOut])
def list_products(request: ApiRequest, filters: Query[ListFilters]):
    qs = visible(Product.objects.prefetch_related("components", "versions"), request.auth)
    if filters.q:
        qs = qs.filter(name__icontains=filters.q)
    rows, next_url = paginate(
        request, qs, order=("id",), limit=filters.limit, cursor=filters.cursor
    )
    return {"results": rows, "next": next_url}


@router.post("/products", response={201: ProductOut})
def create_product(request: ApiRequest, payload: ProductIn):
    return Status(201, actions.create_product(request.auth, **payload.dict()))


@router.get("/products/{ref}", response=ProductOut)
def get_product(request: ApiRequest, ref: str):
    return resolve_or_404(request.auth, Product.objects.all(), ref)


@router.post("/products/{ref}/versions", response={201: VersionOut})
def add_version(request: ApiRequest, ref: str, payload: VersionIn):
    return Status(
        201, actions.add_version(request.auth, get_product(request, ref), **payload.dict())
    )


@router.post("/products/{ref}/components", response={201: ComponentOut})
def add_component(request: ApiRequest, ref: str, payload: ComponentIn):
    return Status(
        201, actions.add_component(request.auth, get_product(request, ref), name=payload.name)
    )


@router.get("/config-items", response=Page[ConfigItemOut])
def list_config_items(request: ApiRequest, filters: Query[ConfigItemFilters]):
    qs = visible(
        ConfigItem.objects.select_related("organization", "product", "version"), request.auth
    )
    if filters.q:
        qs = qs.filter(name__icontains=filters.q)
    if filters.organization:
        qs = qs.filter(Q(organization__slug=filters.organization))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.product:
        qs = qs.filter(product__slug=filters.product)
    rows, next_url = paginate(
        request, qs, order=("id",), limit=filters.limit, cursor=filters.cursor
    )
    return {"results": rows, "next": next_url}


@router.post("/config-items", response={201: ConfigItemOut})
def create_config_item(request: ApiRequest, payload: ConfigItemIn):
    data = payload.dict()
    data["organization"] = resolve_organization(data["organization"])
    data["product"] = refs.product(request.auth, data["product"])
    data["version"] = _version(request.auth, data["product"], data["version"])
    return Status(201, actions.create_config_item(request.auth, **data))


@router.get("/config-items/{item_id}", response=ConfigItemOut)
def get_config_item(request: ApiRequest, item_id: Id):
    qs = visible(
        ConfigItem.objects.select_related("organization", "product", "version"), request.auth
    )
    return get_object_or_404(qs, pk=item_id)


@router.patch("/config-items/{item_id}", response=ConfigItemOut)
def update_config_item(request: ApiRequest, item_id: Id, payload: ConfigItemPatch):
    item = get_config_item(request, item_id)
    changes = payload.dict(exclude_unset=True)
    if "product" in changes:
        changes["product"] = refs.product(request.auth, changes["product"])
    if "version" in changes:
        changes["version"] = _version(
            request.auth, changes.get("product", item.product), changes["version"]
        )
    return actions.update_config_item(request.auth, item, **changes)


@router.get("/config-items/{item_id}/relations", response=list[RelationOut])
def list_relations(request: ApiRequest, item_id: Id):
    item = get_config_item(request, item_id)
    # Only relations whose other end the reader may see: an item the provider shares between
    # customers relates to each customer's items.
    others = visible(ConfigItem.objects.all(), request.auth)
    qs = Relation.objects.filter(
        Q(source=item, target__in=others) | Q(target=item, source__in=others)
    )
    return list(qs.order_by("id")[:500])


@router.post("/config-items/{item_id}/relations", response={201: RelationOut})
def add_relation(request: ApiRequest, item_id: Id, payload: RelationIn):
    source = get_config_item(request, item_id)
    target = visible(ConfigItem.objects.all(), request.auth).filter(pk=payload.target).first()
    if target is None:
        raise Invalid(f"No configuration item {payload.target}.", field="target")
    return Status(201, actions.relate(request.auth, source, target, payload.kind))
