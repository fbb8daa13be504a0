"""REST endpoints for configuration documents (versions, diffs, rollback), what agents observe
(`POST /config-items/{item_id}/observed-config`, with a machine token or a user's), drift, and
an item's impact (what a failure hits, what it needs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db.models import Count, OuterRef, Q, Subquery
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from sustain.accounts.auth import TokenAuth
from sustain.cmdb import configs, diffs, graph
from sustain.cmdb.models import ConfigDocument, ConfigItem, ConfigVersion, Drift
from sustain.core.api import ActiveSessionAuth, Input, Patch
from sustain.core.errors import Invalid
from sustain.core.http import ApiRequest
from sustain.core.tenancy import visible
from sustain.monitoring.models import MachineToken
from sustain.monitoring.tokens import MachineTokenAuth

router = Router(tags=["configurations"])


class ConfigIgnoreRule(Schema):
    kind: Literal["key", "line"]
    pattern: str = Field(min_length=1, max_length=200)


class ConfigDriftOut(Schema):
    id: int
    item: int = Field(alias="item_id")
    document: str | None = Field(None, alias="document.name")
    kind: str
    detail: str
    since: datetime
    last_seen_at: datetime
    cleared_at: datetime | None
    ticket: str | None = Field(None, alias="ticket.key")


class ConfigDocumentOut(Schema):
    id: int
    item: int = Field(alias="item_id")
    name: str
    format: str
    ignore_rules: list[dict[str, str]]
    open_ticket_on_drift: bool
    version: int = Field(description="The latest version: the approved baseline.")
    text: str = Field(description="The latest version's text; secrets masked but for admins.")
    observed_at: datetime | None
    drift: ConfigDriftOut | None
    created_at: datetime


class ConfigDocumentIn(Input):
    name: str = Field(min_length=1, max_length=200)
    text: str
    message: str = Field("", max_length=500)
    format: ConfigDocument.Format | None = None
    ignore_rules: list[ConfigIgnoreRule] = []
    open_ticket_on_drift: bool = False


class ConfigDocumentPatch(Patch):
    format: ConfigDocument.Format | None = None
    ignore_rules: list[ConfigIgnoreRule] | None = None
    open_ticket_on_drift: bool | None = None


class ConfigVersionIn(Input):
    text: str
    message: str = Field("", max_length=500)


class ConfigRollbackIn(Input):
    number: int = Field(ge=1, le=10**9)
    message: str = Field("", max_length=500)


class ConfigVersionOut(Schema):
    number: int
    message: str
    author: str | None = Field(None, alias="author.email")
    restored_from: int | None
    created_at: datetime
    text: str | None = Field(None, description="Only when one version is asked for.")


class ConfigDiffRow(Schema):
    tag: str
    left_no: int | None
    left: str
    right_no: int | None
    right: str


class ConfigDiffOut(Schema):
    old: str
    new: str
    removed: int
    added: int
    unified: str
    rows: list[ConfigDiffRow]


class ConfigDiffFilters(Schema):
    old: int | None = Field(None, ge=1, le=10**9, description="A version; the one before new.")
    new: str | None = Field(
        None, max_length=20, description="A version number or `observed`; the latest by default."
    )


class ObservedConfigIn(Input):
    name: str | None = Field(None, max_length=200, description="A document's name.")
    text: str | None = Field(None, description="The document's observed text.")
    adopt: bool = Field(False, description="Keep a document not yet kept, this copy first.")
    version: str | None = Field(
        None, max_length=60, description="Instead: the product version installed."
    )


class ObservedConfigOut(Schema):
    drift: ConfigDriftOut | None


class ConfigDriftFilters(Schema):
    open_only: bool = True


def _open_drift(document: ConfigDocument) -> Drift | None:
    return (
        document.drifts.filter(cleared_at__isnull=True).select_related("document", "ticket").first()
    )


def _out(
    request: ApiRequest,
    document: ConfigDocument,
    current: ConfigVersion | None = None,
    drift: Drift | bool | None = False,
) -> dict[str, Any]:
    current = current or configs.latest(document)
    return {
        "id": document.pk,
        "item_id": document.item_id,
        "name": document.name,
        "format": document.format,
        "ignore_rules": document.ignore_rules,
        "open_ticket_on_drift": document.open_ticket_on_drift,
        "version": current.number,
        "text": diffs.shown(current.text, request.auth),
        "observed_at": document.observed_at,
        "drift": _open_drift(document) if drift is False else drift,
        "created_at": document.created_at,
    }


def _item(request: ApiRequest, item_id: int) -> ConfigItem:
    return get_object_or_404(visible(ConfigItem.objects.all(), request.auth), pk=item_id)


def _document(request: ApiRequest, document_id: int) -> ConfigDocument:
    return get_object_or_404(
        visible(ConfigDocument.objects.select_related("item"), request.auth), pk=document_id
    )


@router.get("/config-items/{item_id}/documents", response=list[ConfigDocumentOut])
def list_documents(request: ApiRequest, item_id: int):
    item = _item(request, item_id)
    rows = list(visible(item.documents.all(), request.auth).order_by("name")[:500])
    ids = [d.pk for d in rows]
    newest = ConfigVersion.objects.filter(document_id=OuterRef("document_id")).order_by("-number")
    latest = {
        v.document_id: v
        for v in ConfigVersion.objects.filter(
            document_id__in=ids, number=Subquery(newest.values("number")[:1])
        )
    }
    drifts = {
        d.document_id: d
        for d in Drift.objects.filter(document_id__in=ids, cleared_at__isnull=True).select_related(
            "document", "ticket"
        )
    }
    return [_out(request, d, latest[d.pk], drifts.get(d.pk)) for d in rows]


@router.post("/config-items/{item_id}/documents", response={201: ConfigDocumentOut})
def create_document(request: ApiRequest, item_id: int, payload: ConfigDocumentIn):
    data = payload.dict()
    data["format"] = data["format"] or ""
    made = configs.create_document(request.auth, _item(request, item_id), **data)
    return Status(201, _out(request, made))


@router.get("/config-documents/{document_id}", response=ConfigDocumentOut)
def get_document(request: ApiRequest, document_id: int):
    return _out(request, _document(request, document_id))


@router.patch("/config-documents/{document_id}", response=ConfigDocumentOut)
def patch_document(request: ApiRequest, document_id: int, payload: ConfigDocumentPatch):
    document = _document(request, document_id)
    changed = configs.update_document(request.auth, document, **payload.dict(exclude_unset=True))
    return _out(request, changed)


@router.get("/config-documents/{document_id}/versions", response=list[ConfigVersionOut])
def list_versions(request: ApiRequest, document_id: int):
    document = _document(request, document_id)
    rows = document.versions.select_related("author").defer("text").order_by("-number")[:1000]
    return [{**_version(v), "text": None} for v in rows]


def _version(v: ConfigVersion) -> dict[str, Any]:
    return {
        "number": v.number,
        "message": v.message,
        "author": v.author,
        "restored_from": v.restored_from,
        "created_at": v.created_at,
    }


@router.post("/config-documents/{document_id}/versions", response={201: ConfigVersionOut})
def save_version(request: ApiRequest, document_id: int, payload: ConfigVersionIn):
    document = _document(request, document_id)
    made = configs.save_version(request.auth, document, **payload.dict())
    return Status(201, {**_version(made), "text": diffs.shown(made.text, request.auth)})


@router.get("/config-documents/{document_id}/versions/{number}", response=ConfigVersionOut)
def get_version(request: ApiRequest, document_id: int, number: int):
    document = _document(request, document_id)
    found = get_object_or_404(document.versions.select_related("author"), number=number)
    return {**_version(found), "text": diffs.shown(found.text, request.auth)}


@router.post("/config-documents/{document_id}/rollback", response={201: ConfigVersionOut})
def rollback(request: ApiRequest, document_id: int, payload: ConfigRollbackIn):
    document = _document(request, document_id)
    made = configs.rollback(request.auth, document, **payload.dict())
    return Status(201, {**_version(made), "text": diffs.shown(made.text, request.auth)})


@router.get("/config-documents/{document_id}/diff", response=ConfigDiffOut)
def diff(request: ApiRequest, document_id: int, filters: Query[ConfigDiffFilters]):
    document = _document(request, document_id)
    return configs.compare(document, filters.old, filters.new, request.auth)


@router.post(
    "/config-items/{item_id}/observed-config",
    response=ObservedConfigOut,
    auth=[MachineTokenAuth(), TokenAuth(), ActiveSessionAuth()],
)
def observed_config(request: ApiRequest, item_id: int, payload: ObservedConfigIn):
    """What an agent or a CI job found on the item: a document's text (`name`, `text`), or
    the product version installed (`version`); drift opens or clears at once."""
    actor: Any = request.auth
    if isinstance(actor, MachineToken):
        items = ConfigItem.objects.filter(organization_id=actor.organization_id)
        if actor.config_item_id is not None:
            items = items.filter(pk=actor.config_item_id)
        item, actor = get_object_or_404(items, pk=item_id), None
    else:
        item = _item(request, item_id)
    if payload.version is not None:
        if payload.name is not None or payload.text is not None:
            raise Invalid(
                "Send a document (name and text) or a version, not both.", field="version"
            )
        return {"drift": configs.observe_version(actor, item, version=payload.version)}
    if payload.name is None or payload.text is None:
        raise Invalid("A document's name and text are required (or a version).", field="name")
    document = configs.observe(
        actor, item, name=payload.name, text=payload.text, adopt=payload.adopt
    )
    return {"drift": _open_drift(document)}


@router.get("/config-items/{item_id}/drifts", response=list[ConfigDriftOut])
def list_drifts(request: ApiRequest, item_id: int, filters: Query[ConfigDriftFilters]):
    item = _item(request, item_id)
    rows = visible(item.drifts.select_related("document", "ticket"), request.auth)
    if filters.open_only:
        rows = rows.filter(cleared_at__isnull=True)
    return list(rows.order_by("-since")[:500])


# --- impact -------------------------------------------------------------------------------------
class ImpactFilters(Schema):
    direction: Literal["down", "up"] = Field(
        "down", description="down: what needs the item (is hit when it fails); up: what it needs."
    )
    depth: int = Field(5, ge=1, le=10)


class ImpactedItem(Schema):
    id: int
    name: str
    kind: str
    organization: str = Field(alias="organization.slug")
    distance: int
    open_incidents: int
    firing_alerts: int


class ImpactOut(Schema):
    item: int
    direction: str
    depth: int
    items: list[ImpactedItem]


@router.get("/config-items/{item_id}/impact", response=ImpactOut)
def impact(request: ApiRequest, item_id: int, filters: Query[ImpactFilters]):
    """If the item fails, which items are hit (`down`), or what it needs (`up`), nearest
    first, each with its open incidents and firing alerts. Only items the caller may see are
    named: a customer never learns another organization's items through a walk."""
    item = _item(request, item_id)
    walk = graph.downstream if filters.direction == "down" else graph.upstream
    distances = walk([item.pk], filters.depth)
    open_statuses = ("new", "open", "pending")
    rows = (
        visible(ConfigItem.objects.filter(pk__in=list(distances)), request.auth)
        .select_related("organization")
        .annotate(
            open_incidents=Count(
                "tickets", filter=Q(tickets__status__in=open_statuses), distinct=True
            ),
            firing_alerts=Count("alerts", filter=Q(alerts__state="firing"), distinct=True),
        )
    )
    found = sorted(rows, key=lambda r: (distances[r.pk], r.name))
    for row in found:
        row.distance = distances[row.pk]  # type: ignore[attr-defined]
    return {"item": item.pk, "direction": filters.direction, "depth": filters.depth, "items": found}
