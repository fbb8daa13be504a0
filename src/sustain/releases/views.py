"""Release pages for staff: the list per product, a new release, and the release page with its
workflow, quality gate, contents, notes, test runs and timeline (in-place actions by htmx)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from sustain.bugs.models import Bug
from sustain.cmdb.models import Product
from sustain.core import htmx
from sustain.core.access import agent_required
from sustain.core.errors import ActionError
from sustain.core.http import AuthedRequest
from sustain.releases import actions, gate, notes, queries
from sustain.releases.forms import (
    ApproveForm,
    BugForm,
    ChangeForm,
    EditForm,
    NotesForm,
    ReleaseForm,
    TransitionForm,
)
from sustain.releases.models import Release, ReleaseChange, Status, TestRun

LIST_LIMIT = 500


# What the edit form shows and compares against (a repository as its row, as the form cleans it).
EDITABLE = ("summary", "known_issues", "planned_for", "repository", "from_tag", "to_tag")


def _release_or_404(request: AuthedRequest, release_id: int) -> Release:
    release = queries.release_for(request.user, release_id)
    if release is None:
        raise Http404(f"No release {release_id}.")
    return release


def _bug_url(key: str) -> str | None:
    for name in ("bugs:bug", "bugs:detail"):
        try:
            return reverse(name, args=[key])
        except NoReverseMatch:
            continue
    return None


@agent_required
def release_list(request: AuthedRequest) -> HttpResponse:
    error = ""
    try:
        filters = queries.Filters.from_params(request.GET, request.user)
    except ActionError as exc:
        filters, error = queries.Filters(), exc.message
    qs = filters.apply(queries.with_counts(queries.releases_for(request.user)))
    rows = list(qs.order_by(*queries.ORDER)[:LIST_LIMIT])
    groups: dict[Product, list[Release]] = {}
    for release in rows:
        groups.setdefault(release.product, []).append(release)
    context = {
        "groups": groups,
        "filters": filters,
        "products": Product.objects.all(),
        "statuses": Status.choices,
        "error": error,
        "truncated": len(rows) == LIST_LIMIT,
    }
    return render(request, "releases/list.html", context, status=422 if error else 200)


@agent_required
def new_release(request: AuthedRequest) -> HttpResponse:
    form = ReleaseForm(request.POST or None, initial={"product": request.GET.get("product")})
    if request.method == "POST" and form.is_valid():
        try:
            release = actions.create_release(request.user, **form.cleaned_data)
            return redirect("releases:detail", release_id=release.pk)
        except ActionError as exc:
            field = exc.errors[0]["field"] if exc.errors else None
            form.add_error(field if field in form.fields else None, exc.message)
    status = 422 if form.errors else 200
    return render(request, "releases/new.html", {"form": form}, status=status)


def _context(request: AuthedRequest, release: Release, error: str = "") -> dict[str, Any]:
    links = list(release.bug_links.select_related("bug").order_by("bug_id"))
    for link in links:
        link.url = _bug_url(link.bug.key)  # type: ignore[attr-defined]
    tab = request.GET.get("notes") if request.GET.get("notes") in ("internal", "edit") else ""
    return {
        "release": release,
        "error": error,
        "gate": gate.evaluate(release),
        "transitions": sorted(actions.allowed_transitions(release.status) - {Status.APPROVED}),
        "can_approve": release.status == Status.TESTING and request.user.is_manager,
        "contents_open": release.status in actions.CONTENT_STATUSES,
        "notes_open": release.status in actions.NOTES_STATUSES,
        "links": links,
        "changes": list(release.changes.order_by("id")),
        "change_kinds": ReleaseChange.Kind.choices,
        "runs": list(
            TestRun.objects.filter(release=release)
            .select_related("reported_by")
            .order_by("-id")[:50]
        ),
        "customer_html": notes.html(release.customer_notes),
        "internal_html": notes.html(release.internal_notes),
        "notes_tab": tab,
        "timeline": queries.timeline(release),
        "edit_form": EditForm(initial={name: getattr(release, name) for name in EDITABLE}),
    }


@agent_required
def release_page(request: AuthedRequest, release_id: int) -> HttpResponse:
    release = _release_or_404(request, release_id)
    return render(request, "releases/detail.html", _context(request, release))


def _answer(request: AuthedRequest, release_id: int, error: str = "") -> HttpResponse:
    """After an in-place action: the release again (htmx), or back to the page."""
    release = _release_or_404(request, release_id)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("releases:detail", release_id=release.pk)
    return render(
        request,
        "releases/_release.html",
        _context(request, release, error),
        status=422 if error else 200,
    )


def _run(
    request: AuthedRequest,
    release_id: int,
    form: Any,
    apply: Callable[[Release, dict], Any],
) -> HttpResponse:
    release = _release_or_404(request, release_id)
    return htmx.run(
        form, lambda data: apply(release, data), lambda error: _answer(request, release_id, error)
    )


@agent_required
@require_POST
def transition(request: AuthedRequest, release_id: int) -> HttpResponse:
    return _run(
        request,
        release_id,
        TransitionForm(request.POST),
        lambda r, d: actions.transition(request.user, r, d["status"], reason=d["reason"]),
    )


@agent_required
@require_POST
def approve(request: AuthedRequest, release_id: int) -> HttpResponse:
    """Approve; refused, the form comes back with what was typed and each error beside its
    field (the override reason's beside the reason)."""
    release = _release_or_404(request, release_id)
    form = ApproveForm(request.POST)
    if form.is_valid():
        try:
            actions.approve(request.user, release, override_reason=form.cleaned_data["reason"])
            return _answer(request, release_id)
        except ActionError as exc:
            field = exc.errors[0]["field"] if exc.errors else None
            form.add_error("reason" if field == "override_reason" else None, exc.message)
    context = _context(request, release, " ".join(str(e) for e in form.non_field_errors()))
    context["approve_form"] = form
    template = "releases/_release.html" if request.htmx else "releases/detail.html"
    return render(request, template, context, status=422)


@agent_required
@require_POST
def edit(request: AuthedRequest, release_id: int) -> HttpResponse:
    def apply(release: Release, data: dict) -> Any:
        changed = {k: v for k, v in data.items() if getattr(release, k) != v}
        if changed:
            actions.update_release(request.user, release, **changed)

    return _run(request, release_id, EditForm(request.POST), apply)


def _with_bug(
    request: AuthedRequest, release_id: int, act: Callable[[Any, Release, Bug], Any]
) -> HttpResponse:
    return _run(
        request,
        release_id,
        BugForm(request.POST),
        lambda r, d: act(request.user, r, queries.bug_for(request.user, d["bug"])),
    )


@agent_required
@require_POST
def add_bug(request: AuthedRequest, release_id: int) -> HttpResponse:
    return _with_bug(request, release_id, actions.add_bug)


@agent_required
@require_POST
def remove_bug(request: AuthedRequest, release_id: int) -> HttpResponse:
    return _with_bug(request, release_id, actions.remove_bug)


@agent_required
@require_POST
def refresh(request: AuthedRequest, release_id: int) -> HttpResponse:
    return _run(
        request, release_id, NotesForm({}), lambda r, d: actions.refresh_contents(request.user, r)
    )


@agent_required
@require_POST
def add_change(request: AuthedRequest, release_id: int) -> HttpResponse:
    return _run(
        request,
        release_id,
        ChangeForm(request.POST),
        lambda r, d: actions.add_change(request.user, r, **d),
    )


@agent_required
@require_POST
def delete_change(request: AuthedRequest, release_id: int, change_id: int) -> HttpResponse:
    def apply(release: Release, data: dict) -> Any:
        # Looked up in the release _run has already fetched (a 404 is not an action error).
        change = release.changes.filter(pk=change_id).first()
        if change is None:
            raise Http404(f"No change {change_id} in this release.")
        return actions.delete_change(request.user, change)

    return _run(request, release_id, NotesForm({}), apply)


@agent_required
@require_POST
def edit_notes(request: AuthedRequest, release_id: int) -> HttpResponse:
    return _run(
        request,
        release_id,
        NotesForm(request.POST),
        lambda r, d: actions.edit_notes(
            request.user,
            r,
            customer_notes=d["customer_notes"] if "customer_notes" in request.POST else None,
            internal_notes=d["internal_notes"] if "internal_notes" in request.POST else None,
        ),
    )


@agent_required
@require_POST
def regenerate_notes(request: AuthedRequest, release_id: int) -> HttpResponse:
    return _run(
        request,
        release_id,
        NotesForm({}),
        lambda r, d: actions.regenerate_notes(request.user, r),
    )
