"""The bug pages (staff only): lists, the triage queue, reporting, and the bug page with its
in-place controls (htmx: a change answers with a trigger, and the page's parts reload)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from sustain.accounts.actions import team_for_self
from sustain.accounts.models import Team, User
from sustain.bugs import actions, queries, triage, workflow
from sustain.bugs import refs as bug_refs
from sustain.bugs.forms import (
    AssignForm,
    BugForm,
    ClassifyForm,
    CommentForm,
    DuplicateForm,
    EditForm,
    LineForm,
    StatusForm,
    TicketForm,
    offer_environments,
)
from sustain.bugs.models import (
    Bug,
    BugAttachment,
    BugCommit,
    LineStatus,
    Severity,
    Status,
)
from sustain.cmdb import refs as cmdb_refs
from sustain.cmdb.models import Product
from sustain.core import attachments as files
from sustain.core import htmx
from sustain.core.access import agent_required
from sustain.core.errors import ActionError, Problems
from sustain.core.forms import add_action_error
from sustain.core.http import AuthedRequest
from sustain.core.models import Priority
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible
from sustain.desk import refs

PAGE_SIZE = 50


def _bug_or_404(user: User, key: str) -> Bug:
    bug = queries.bug_for(user, key)
    if bug is None:
        raise Http404(f"No bug {key}.")
    return bug


# --- lists -------------------------------------------------------------------------------------
def _list(
    request: AuthedRequest, params: Any, template: str, extra: dict[str, Any]
) -> HttpResponse:
    error = ""
    try:
        filters = queries.BugFilters.from_params(params)
        qs = queries.with_list_relations(queries.bugs_for(request.user, filters))
        rows, next_url = paginate(
            request,
            qs,
            order=queries.ORDERS[filters.order],
            limit=PAGE_SIZE,
            cursor=params.get("cursor"),
        )
    except ActionError as exc:
        filters, rows, next_url, error = queries.BugFilters(), [], None, exc.message
    context: dict[str, Any] = {
        "rows": [(bug, triage.clock(bug)) for bug in rows],
        "next_url": next_url,
        "filters": filters,
        "params": params,
        "error": error,
        "statuses": Status.choices,
        "severities": Severity.choices,
        "priorities": Priority.choices,
        "orders": list(queries.ORDERS),
        "products": Product.objects.order_by("name"),
        **extra,
    }
    status = 422 if error else 200
    if request.htmx and not request.htmx.boosted:
        return render(request, "bugs/_rows.html", context, status=status)
    return render(request, template, context, status=status)


@agent_required
def bug_list(request: AuthedRequest) -> HttpResponse:
    params = request.GET.copy()
    if not any(params.get(k) for k in ("status", "q", "open", "triage", "regression", "order")):
        params["open"] = "1"
    return _list(request, params, "bugs/list.html", {"title": "Bugs"})


@agent_required
def triage_queue(request: AuthedRequest) -> HttpResponse:
    """New bugs, most customers hit first, with their triage clocks."""
    params = request.GET.copy()
    params["triage"] = "1"
    params.setdefault("order", "impact")
    return _list(request, params, "bugs/triage.html", {"title": "Triage"})


# --- reporting ---------------------------------------------------------------------------------
def _initial_from_ticket(request: AuthedRequest, key: str) -> tuple[Any, dict[str, Any]]:
    ticket = refs.ticket(request.user, key, "ticket")
    assert ticket is not None
    initial: dict[str, Any] = {
        "ticket": ticket.key,
        "title": ticket.title,
        "description": ticket.description,
    }
    ci = ticket.affected_ci
    if ci is not None:
        initial["environment"] = ci.pk
        if ci.product_id:
            initial["product"] = ci.product_id
        if ci.version is not None:
            initial["affected_versions"] = ci.version.name
    return ticket, initial


def _checked(request: AuthedRequest, form: BugForm, ticket: Any) -> tuple[Any, dict[str, Any]]:
    """The product and the fields of a new bug, with every reference looked up first (also when
    the form itself was refused), so the page shows each error at once."""
    data = form.cleaned_data
    product = data.get("product")
    fields: dict[str, Any] = {
        name: data.get(name)
        for name in (
            "title",
            "description",
            "steps_to_reproduce",
            "expected_behaviour",
            "actual_behaviour",
            "severity",
            "priority",
            "team",
            "assignee",
        )
    }
    problems = Problems()
    if product is None and ticket is None and "product" not in form.errors:
        problems.add("A product is required.", "product")
    upload = data.get("attachment")
    if upload:
        fields["uploads"] = [(upload.name, upload.read())]
        problems.check(files.check, *fields["uploads"][0], "attachment")
    if data.get("environment"):
        fields["environment"] = problems.check(
            bug_refs.environment, request.user, data["environment"]
        )
    if ticket is not None and product is None:
        ci = ticket.affected_ci
        product = ci.product if ci is not None and ci.product_id else None
    if product is not None:
        fields.update(_of_product(request, form, product, problems))
    problems.raise_any()
    return product, fields


def _create(request: AuthedRequest, form: BugForm, ticket: Any) -> Bug | None:
    """The new bug; None when the form was refused (its errors, and the references', are on it)."""
    valid = form.is_valid()
    try:
        product, fields = _checked(request, form, ticket)
        if not valid:
            return None
        if ticket is not None:
            return actions.create_bug_from_ticket(request.user, ticket, product=product, **fields)
        return actions.create_bug(request.user, product=product, **fields)
    except ActionError as exc:
        add_action_error(form, exc)
    return None


def _of_product(
    request: AuthedRequest, form: BugForm, product: Any, problems: Problems
) -> dict[str, Any]:
    """The component and affected versions named in the form, as rows of `product`."""
    found: dict[str, Any] = {}
    if form.cleaned_data.get("component"):
        found["component"] = problems.check(
            cmdb_refs.component, request.user, product, form.cleaned_data["component"]
        )
    if form.version_names():
        found["affected_versions"] = problems.check(
            bug_refs.versions, request.user, product, form.version_names()
        )
    return found


@agent_required
def new_bug(request: AuthedRequest) -> HttpResponse:
    """Report a bug; `?ticket=INC-1` fills it in from the ticket and links both ways."""
    ticket: Any = None
    initial: dict[str, Any] = {}
    key = request.POST.get("ticket") or request.GET.get("ticket")
    if key:
        try:
            ticket, initial = _initial_from_ticket(request, key)
        except ActionError:
            raise Http404("No such ticket.") from None
    form = BugForm(request.POST or None, request.FILES or None, initial=initial)
    offer_environments(form, queries.environment_choices(request.user))
    if request.method == "POST":
        bug = _create(request, form, ticket)
        if bug is not None:
            return redirect("bugs:bug", bug_key=bug.key)
    status = 422 if form.errors else 200
    context = {"form": form, "ticket": ticket, "similar_url": _similar_url()}
    return render(request, "bugs/new.html", context, status=status)


def _similar_url() -> str:
    """The duplicate suggestions as the title is typed (bugs/similar), once it is served."""
    try:
        return reverse("similar:suggest")
    except NoReverseMatch:
        return ""


# --- the bug page ------------------------------------------------------------------------------
def _page_context(request: AuthedRequest, bug: Bug) -> dict[str, Any]:
    user = request.user
    links = list(queries.ticket_links(user, bug))
    return {
        "bug": bug,
        "clock": triage.clock(bug),
        "transitions": [
            (s, Status(s).label)
            for s in sorted(workflow.allowed_transitions(bug.status) - {Status.DUPLICATE})
        ],
        "can_duplicate": Status.DUPLICATE in workflow.allowed_transitions(bug.status),
        "severities": Severity.choices,
        "priorities": Priority.choices,
        "line_statuses": LineStatus.choices,
        "teams": Team.objects.all(),
        "agents": User.objects.assignable(),
        "status_words": workflow.CUSTOMER_WORDS[bug.status],
        "environment_shown": queries.environment_visible(user, bug),
        "links": links,
        "hidden_links": bug.incident_count - len(links),
        "lines": list(bug.lines.all()),
        "commits": BugCommit.objects.filter(bug=bug)
        .select_related("commit__repository")
        .order_by("-id")[:100],
        "duplicates": bug.duplicates.order_by("id")[:100],
        "attachments": visible(BugAttachment.objects.filter(bug=bug), user).order_by("id"),
        "timeline": queries.timeline(user, bug),
        "comment_form": CommentForm(),
        "versions": bug.product.versions.all(),
        "environments": queries.environment_choices(user),
        "components": bug.product.components.order_by("name"),
    }


@agent_required
def bug_page(request: AuthedRequest, bug_key: str) -> HttpResponse:
    bug = _bug_or_404(request.user, bug_key)
    return render(request, "bugs/bug.html", _page_context(request, bug))


def _done(request: AuthedRequest, bug: Bug, error: str = "") -> HttpResponse:
    """After an in-place change: htmx gets the error (422) or a trigger that reloads the
    page's parts; a plain form post goes back to the page."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("bugs:bug", bug_key=bug.key)
    if error:
        return HttpResponse(format_html('<p class="error" role="alert">{}</p>', error), status=422)
    response = HttpResponse("")
    response["HX-Trigger"] = "bug-changed"
    return response


def _run(
    request: AuthedRequest, bug_key: str, form: Any, apply: Callable[[Bug, dict], Any]
) -> HttpResponse:
    bug = _bug_or_404(request.user, bug_key)
    return htmx.run(form, lambda data: apply(bug, data), lambda error: _done(request, bug, error))


@agent_required
@require_POST
def change_status(request: AuthedRequest, bug_key: str) -> HttpResponse:
    def apply(bug: Bug, data: dict) -> Any:
        version = cmdb_refs.version(request.user, bug.product, data["version"], "version")
        return actions.transition(
            request.user, bug, data["status"], reason=data["reason"], version=version
        )

    return _run(request, bug_key, StatusForm(request.POST), apply)


@agent_required
@require_POST
def assign(request: AuthedRequest, bug_key: str) -> HttpResponse:
    def apply(bug: Bug, data: dict) -> Any:
        if data["me"]:
            team = team_for_self(request.user, data["team"], bug.team)
            return actions.assign(request.user, bug, team=team, assignee=request.user)
        return actions.assign(request.user, bug, team=data["team"], assignee=data["assignee"])

    return _run(request, bug_key, AssignForm(request.POST), apply)


@agent_required
@require_POST
def classify(request: AuthedRequest, bug_key: str) -> HttpResponse:
    return _run(
        request,
        bug_key,
        ClassifyForm(request.POST),
        lambda b, d: actions.update_bug(
            request.user, b, severity=d["severity"], priority=d["priority"]
        ),
    )


@agent_required
@require_POST
def edit(request: AuthedRequest, bug_key: str) -> HttpResponse:
    form = EditForm(request.POST)

    def apply(bug: Bug, data: dict) -> Any:
        changes = {
            k: data[k]
            for k in (
                "title",
                "description",
                "steps_to_reproduce",
                "expected_behaviour",
                "actual_behaviour",
            )
        }
        changes["component"] = cmdb_refs.component(request.user, bug.product, data["component"])
        changes["affected_versions"] = bug_refs.versions(
            request.user, bug.product, form.version_names()
        )
        if data["environment"] or queries.environment_visible(request.user, bug):
            # Left blank by someone who may not see it (it is not in their form): kept.
            changes["environment"] = bug_refs.environment(request.user, data["environment"])
        return actions.update_bug(request.user, bug, **changes)

    return _run(request, bug_key, form, apply)


@agent_required
@require_POST
def comment(request: AuthedRequest, bug_key: str) -> HttpResponse:
    form = CommentForm(request.POST, request.FILES)

    def apply(bug: Bug, data: dict) -> Any:
        upload = data.get("attachment")
        return actions.add_comment(
            request.user,
            bug,
            data["body"],
            is_public=form.public,
            uploads=[(upload.name, upload.read())] if upload else [],
        )

    return _run(request, bug_key, form, apply)


def _with_ticket(request: AuthedRequest, bug_key: str, act: Callable[..., Any]) -> HttpResponse:
    """Link or unlink: both take the ticket named in the form."""

    def apply(bug: Bug, data: dict) -> Any:
        return act(request.user, bug, bug_refs.required_ticket(request.user, data["ticket"]))

    return _run(request, bug_key, TicketForm(request.POST), apply)


@agent_required
@require_POST
def link_ticket(request: AuthedRequest, bug_key: str) -> HttpResponse:
    return _with_ticket(request, bug_key, actions.link_ticket)


@agent_required
@require_POST
def unlink_ticket(request: AuthedRequest, bug_key: str) -> HttpResponse:
    return _with_ticket(request, bug_key, actions.unlink_ticket)


@agent_required
@require_POST
def duplicate(request: AuthedRequest, bug_key: str) -> HttpResponse:
    def apply(bug: Bug, data: dict) -> Any:
        original = bug_refs.required_bug(request.user, data["original"], "original")
        return actions.mark_duplicate(request.user, bug, original=original)

    return _run(request, bug_key, DuplicateForm(request.POST), apply)


@agent_required
@require_POST
def set_line(request: AuthedRequest, bug_key: str) -> HttpResponse:
    form = LineForm(request.POST)

    def apply(bug: Bug, data: dict) -> Any:
        major, minor = form.major_minor()
        product = bug.product
        return actions.set_line_status(
            request.user,
            bug,
            major=major,
            minor=minor,
            status=data["status"],
            planned_version=cmdb_refs.version(
                request.user, product, data["planned_version"], "planned_version"
            ),
            fixed_version=cmdb_refs.version(
                request.user, product, data["fixed_version"], "fixed_version"
            ),
            introduced_in=cmdb_refs.version(
                request.user, product, data["introduced_in"], "introduced_in"
            ),
        )

    return _run(request, bug_key, form, apply)


@login_required
def download_attachment(request: AuthedRequest, bug_attachment_id: int) -> FileResponse:
    """Bug attachments are internal: served to staff only, never inline."""
    attachment = (
        visible(BugAttachment.objects.all(), request.user).filter(pk=bug_attachment_id).first()
    )
    if attachment is None:
        raise Http404("No such attachment.")
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
