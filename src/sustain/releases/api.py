"""REST endpoints for releases: contents, notes, test evidence, the quality gate.

Customers read released versions of the products their organization runs, with the customer
notes only (a smaller schema); everything else, and every write, is for staff.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.db import transaction
from django.http import Http404
from ninja import Query, Router, Status

from sustain.bugs.models import Repository
from sustain.core.api import Id, Page
from sustain.core.errors import Forbidden, Invalid
from sustain.core.events import for_target
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible
from sustain.releases import actions, gate, queries
from sustain.releases.models import Release, ReleaseChange, TestRun
from sustain.releases.schemas import (
    ApproveIn,
    ChangeIn,
    ChangeOut,
    GateOut,
    NotesIn,
    NotesOut,
    RefreshOut,
    ReleaseBugIn,
    ReleaseBugOut,
    ReleaseCustomerOut,
    ReleaseEventOut,
    ReleaseFilters,
    ReleaseIn,
    ReleaseOut,
    ReleasePatch,
    ReleaseTransitionIn,
    TestRunIn,
    TestRunOut,
)

router = Router(tags=["releases"])

AnyRelease = ReleaseOut | ReleaseCustomerOut


def _release(request: ApiRequest, release_id: Id, *, staff: bool = False) -> Release:
    release = queries.release_for(request.auth, release_id)
    if release is None:
        raise Http404(f"No release {release_id}.")
    if staff and not request.auth.is_agent:
        raise Forbidden("Only staff see this part of a release.")
    return release


def _out(request: ApiRequest, release: Release) -> Any:
    """The release for staff; for customers only what their schema names, so nothing else can
    reach them and the response takes the customers' shape."""
    if not request.auth.is_customer:
        return release
    return SimpleNamespace(
        id=release.pk,
        product=release.product,
        version=release.version,
        kind=release.kind,
        released_at=release.released_at,
        summary=release.summary,
        known_issues=release.known_issues,
        customer_notes=release.customer_notes,
    )


def _repository(ref: str | None) -> Repository | None:
    if ref is None or not str(ref).strip():
        return None
    ref = str(ref).strip()
    repo = Repository.objects.filter(name=ref).first()
    if repo is None and ref.isdigit() and len(ref) < 19:
        repo = Repository.objects.filter(pk=int(ref)).first()
    if repo is None:
        raise Invalid(f"No repository '{ref[:60]}'.", field="repository")
    return repo


@router.get("/releases", response=Page[AnyRelease])
def list_releases(request: ApiRequest, filters: Query[ReleaseFilters]):
    parsed = queries.Filters.from_params(filters.dict(exclude_none=True), request.auth)
    qs = parsed.apply(queries.releases_for(request.auth))
    rows, next_url = paginate(
        request, qs, order=("-id",), limit=filters.limit, cursor=filters.cursor
    )
    return {"results": [_out(request, r) for r in rows], "next": next_url}


@router.post("/releases", response={201: ReleaseOut})
def create_release(request: ApiRequest, payload: ReleaseIn):
    data = payload.dict()
    release = actions.create_release(
        request.auth,
        **data
        | {
            "product": queries.product(request.auth, data["product"]),
            "repository": _repository(data["repository"]),
        },
    )
    return Status(201, _release(request, release.pk))


@router.get("/releases/{release_id}", response=AnyRelease)
def get_release(request: ApiRequest, release_id: Id):
    return _out(request, _release(request, release_id))


@router.patch("/releases/{release_id}", response=ReleaseOut)
def update_release(request: ApiRequest, release_id: Id, payload: ReleasePatch):
    release = _release(request, release_id, staff=True)
    changes = payload.dict(exclude_unset=True)
    if "repository" in changes:
        changes["repository"] = _repository(changes["repository"])
    if changes:
        actions.update_release(request.auth, release, **changes)
    return _release(request, release_id)


@router.post("/releases/{release_id}/transition", response=ReleaseOut)
def transition(request: ApiRequest, release_id: Id, payload: ReleaseTransitionIn):
    """planned → testing → approved → released, back a step, or withdrawn (with a reason).
    Moving to approved checks the quality gate (use /approve for an admin's override)."""
    release = _release(request, release_id, staff=True)
    if payload.status == "approved":
        actions.approve(request.auth, release)
    else:
        actions.transition(request.auth, release, payload.status, reason=payload.reason)
    return _release(request, release_id)


@router.post("/releases/{release_id}/approve", response=ReleaseOut)
def approve(request: ApiRequest, release_id: Id, payload: ApproveIn):
    """Managers approve a release whose gate passes; admins may override with a reason."""
    release = _release(request, release_id, staff=True)
    actions.approve(request.auth, release, override_reason=payload.override_reason)
    return _release(request, release_id)


@router.get("/releases/{release_id}/gate", response=GateOut)
def get_gate(request: ApiRequest, release_id: Id):
    result = gate.evaluate(_release(request, release_id, staff=True))
    return {"ok": result.ok, "checks": result.checks}


@router.post("/releases/{release_id}/refresh", response=RefreshOut)
def refresh(request: ApiRequest, release_id: Id):
    """Bugs again from the target release and from the commits between the tags."""
    return actions.refresh_contents(request.auth, _release(request, release_id, staff=True))


@router.get("/releases/{release_id}/bugs", response=Page[ReleaseBugOut])
def list_bugs(
    request: ApiRequest, release_id: Id, cursor: str | None = None, limit: int | None = None
):
    release = _release(request, release_id, staff=True)
    qs = visible(release.bug_links.select_related("bug"), request.auth)
    rows, next_url = paginate(request, qs, order=("id",), limit=limit, cursor=cursor)
    return {"results": rows, "next": next_url}


@router.post("/releases/{release_id}/bugs", response={201: ReleaseBugOut})
def add_bug(request: ApiRequest, release_id: Id, payload: ReleaseBugIn):
    release = _release(request, release_id, staff=True)
    link = actions.add_bug(request.auth, release, queries.bug_for(request.auth, payload.bug))
    return Status(201, link)


@router.delete("/releases/{release_id}/bugs/{bug_key}", response={204: None})
def remove_bug(request: ApiRequest, release_id: Id, bug_key: str):
    release = _release(request, release_id, staff=True)
    actions.remove_bug(request.auth, release, queries.bug_for(request.auth, bug_key, "bug_key"))
    return Status(204, None)


@router.get("/releases/{release_id}/changes", response=list[ChangeOut])
def list_changes(request: ApiRequest, release_id: Id):
    release = _release(request, release_id, staff=True)
    return list(visible(release.changes.all(), request.auth).order_by("id")[:500])


@router.post("/releases/{release_id}/changes", response={201: ChangeOut})
def add_change(request: ApiRequest, release_id: Id, payload: ChangeIn):
    release = _release(request, release_id, staff=True)
    return Status(201, actions.add_change(request.auth, release, **payload.dict()))


def _change(release: Release, change_id: Id) -> ReleaseChange:
    change = release.changes.filter(pk=change_id).first() if 0 < change_id < 2**63 else None
    if change is None:
        raise Http404(f"No change {change_id} in this release.")
    return change


@router.put("/releases/{release_id}/changes/{change_id}", response=ChangeOut)
def update_change(request: ApiRequest, release_id: Id, change_id: Id, payload: ChangeIn):
    release = _release(request, release_id, staff=True)
    return actions.update_change(request.auth, _change(release, change_id), **payload.dict())


@router.delete("/releases/{release_id}/changes/{change_id}", response={204: None})
def delete_change(request: ApiRequest, release_id: Id, change_id: Id):
    release = _release(request, release_id, staff=True)
    actions.delete_change(request.auth, _change(release, change_id))
    return Status(204, None)


@router.get("/releases/{release_id}/notes", response=NotesOut)
def get_notes(request: ApiRequest, release_id: Id):
    return _release(request, release_id, staff=True)


@router.put("/releases/{release_id}/notes", response=NotesOut)
def edit_notes(request: ApiRequest, release_id: Id, payload: NotesIn):
    release = _release(request, release_id, staff=True)
    return actions.edit_notes(request.auth, release, **payload.dict())


@router.post("/releases/{release_id}/notes", response=NotesOut)
def regenerate_notes(request: ApiRequest, release_id: Id):
    """Throw hand edits away and generate both notes from the contents again."""
    release = _release(request, release_id, staff=True)
    return actions.regenerate_notes(request.auth, release)


@router.get("/releases/{release_id}/test-runs", response=Page[TestRunOut])
def list_test_runs(
    request: ApiRequest, release_id: Id, cursor: str | None = None, limit: int | None = None
):
    release = _release(request, release_id, staff=True)
    qs = visible(TestRun.objects.filter(release=release), request.auth).select_related(
        "reported_by"
    )
    rows, next_url = paginate(request, qs, order=("-id",), limit=limit, cursor=cursor)
    return {"results": rows, "next": next_url}


@router.post("/releases/{release_id}/test-runs", response={201: TestRunOut})
def report_test_run(request: ApiRequest, release_id: Id, payload: TestRunIn):
    """A CI system reports a run (with an agent's or admin's token)."""
    release = _release(request, release_id, staff=True)
    with transaction.atomic():
        run = actions.add_test_run(request.auth, release, **payload.dict())
    return Status(201, run)


@router.get("/releases/{release_id}/events", response=Page[ReleaseEventOut])
def list_events(
    request: ApiRequest, release_id: Id, cursor: str | None = None, limit: int | None = None
):
    release = _release(request, release_id, staff=True)
    qs = for_target(release).select_related("actor")
    rows, next_url = paginate(request, qs, order=("id",), limit=limit, cursor=cursor)
    return {"results": rows, "next": next_url}
