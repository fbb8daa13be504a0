"""The agent workspace: queues, the ticket page and its in-place controls (htmx)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from sustain.accounts.actions import team_for_self
from sustain.accounts.models import Organization, Team, User
from sustain.core import htmx
from sustain.core.access import agent_required
from sustain.core.errors import ActionError
from sustain.core.forms import add_action_error
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.desk import actions, queries, refs, workflow
from sustain.desk.forms import (
    AgentTicketForm,
    AssignForm,
    LinkForm,
    ParentForm,
    PriorityForm,
    ReplyForm,
    SavedFilterForm,
    StatusForm,
    TagsForm,
    WatchForm,
)
from sustain.desk.models import Attachment, Priority, SavedFilter, Status, Ticket

QUEUE_PAGE_SIZE = 50


def _ticket_or_404(user: User, key: str) -> Ticket:
    ticket = queries.ticket_for(user, key)
    if ticket is None:
        raise Http404(f"No ticket {key}.")
    return ticket


@agent_required
def queue(request: AuthedRequest) -> HttpResponse:
    params = request.GET.copy()
    if not any(params.get(k) for k in ("queue", "status", "q", "assignee", "team", "organization")):
        params["queue"] = "open"
    error = ""
    try:
        filters = queries.TicketFilters.from_params(params)
        qs = queries.tickets_for(request.user, filters)
        rows, next_url = queries.page(
            request, qs, filters, limit=QUEUE_PAGE_SIZE, cursor=params.get("cursor")
        )
    except ActionError as exc:
        filters, rows, next_url, error = queries.TicketFilters(), [], None, exc.message
    context: dict[str, Any] = {
        "rows": rows,
        "next_url": next_url,
        "filters": filters,
        "params": params,
        "error": error,
        "queues": queries.QUEUES,
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "orders": queries.ORDER_LABELS,
        "teams": Team.objects.all(),
        "organizations": visible(Organization.objects.customers(), request.user),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "desk/_queue_rows.html", context, status=422 if error else 200)
    context["counts"] = queries.queue_counts(request.user)
    context["saved_filters"] = SavedFilter.objects.filter(Q(owner=request.user) | Q(shared=True))
    return render(request, "desk/queue.html", context, status=422 if error else 200)


# The fields of the queue's filter form (#filters), in the order a saved query keeps them.
FILTER_FIELDS = (
    "queue",
    "q",
    "status",
    "priority",
    "organization",
    "team",
    "kind",
    "created_after",
    "created_before",
    "order",
)


def _query_on_screen(post: Any) -> str:
    """The filter form as it stands when "Save" is pressed (htmx sends #filters along), or,
    without JavaScript, the query of the page as loaded (then the form is what was loaded)."""
    if not any(name in post for name in FILTER_FIELDS):
        return post.get("query", "").lstrip("?")
    pairs = [(n, v) for n in FILTER_FIELDS for v in post.getlist(n) if v.strip()]
    if not any(n == "order" and v != "newest" for n, v in pairs):
        pairs = [(n, v) for n, v in pairs if n != "order"]  # the default order says nothing
    return urlencode(pairs)


@agent_required
@require_POST
def save_filter(request: AuthedRequest) -> HttpResponse:
    form = SavedFilterForm(request.POST)
    query = _query_on_screen(request.POST)
    if form.is_valid():
        try:
            queries.TicketFilters.from_params(QueryDict(query))  # a filter that works, or why
            actions.save_filter(
                request.user,
                name=form.cleaned_data["name"],
                query=query,
                shared=form.cleaned_data["shared"],
            )
            messages.success(request, f"Saved the filter “{form.cleaned_data['name']}”.")
        except ActionError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Give the filter a name.")
    url = reverse("desk:queue") + ("?" + query if query else "")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@agent_required
def new_ticket(request: AuthedRequest) -> HttpResponse:
    form = AgentTicketForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data.pop("attachment")
        uploads = [(upload.name, upload.read())] if upload else []
        try:
            ticket = actions.open_ticket(request.user, channel="phone", uploads=uploads, **data)
            return redirect("desk:ticket", key=ticket.key)
        except ActionError as exc:
            add_action_error(form, exc)
    return render(request, "desk/new.html", {"form": form}, status=422 if form.errors else 200)


def _panel_context(
    request: AuthedRequest, ticket: Ticket, failed: str = "", form: Any = None
) -> dict[str, Any]:
    """The side panel; `failed` names its form that was refused, shown again with what was
    typed (`posted`) and each problem beside its field (`errors`)."""
    return {
        "ticket": ticket,
        "failed": failed if form is not None and form.errors else "",
        "errors": htmx.field_errors(form),
        "posted": form.data if form is not None else {},
        "transitions": sorted(workflow.allowed_transitions(ticket.status)),
        "priorities": Priority.choices,
        "teams": Team.objects.all(),
        "agents": User.objects.assignable(),
        "status_words": workflow.CUSTOMER_WORDS[ticket.status],
        "tags": ", ".join(t.name for t in ticket.tags.all()),
        "watching": ticket.watchers.filter(pk=request.user.pk).exists(),
    }


@agent_required
def ticket_page(request: AuthedRequest, key: str) -> HttpResponse:
    ticket = _ticket_or_404(request.user, key)
    context = _panel_context(request, ticket)
    context["timeline"] = queries.timeline(request.user, ticket)
    context["files"] = queries.files_of(request.user, ticket)
    context["reply_form"] = ReplyForm()
    # A major incident gathers tickets of several customers: list only those the agent serves.
    context["links"] = ticket.links_out.filter(
        target__in=visible(Ticket.objects.all(), request.user)
    ).select_related("target")
    context["children"] = visible(ticket.children.all(), request.user)
    from sustain.bugs.models import Bug  # the bugs behind this incident (bugs app)

    context["bugs"] = Bug.objects.filter(ticket_links__ticket=ticket).order_by("-id")[:50]
    return render(request, "desk/ticket.html", context)


def _panel(request: AuthedRequest, key: str, failed: str = "", form: Any = None) -> HttpResponse:
    """After an in-place change: the side panel again, and the timeline refreshed by an event;
    after a refusal, the panel with the refused form as it was typed and its errors."""
    ticket = _ticket_or_404(request.user, key)
    if not request.htmx:
        return redirect("desk:ticket", key=ticket.key)
    context = _panel_context(request, ticket, failed, form)
    response = render(
        request, "desk/_panel.html", context, status=422 if context["failed"] else 200
    )
    if not context["failed"]:
        response["HX-Trigger"] = "timeline-changed"
    return response


def _run(
    request: AuthedRequest,
    key: str,
    form: Any,
    apply: Callable[[Ticket, dict], Any],
    name: str,
    aliases: dict[str, str] | None = None,
) -> HttpResponse:
    ticket = _ticket_or_404(request.user, key)
    return htmx.run_form(
        form,
        lambda data: apply(ticket, data),
        lambda answered: _panel(request, key, name, answered),
        aliases,
    )


@agent_required
@require_POST
def change_status(request: AuthedRequest, key: str) -> HttpResponse:
    return _run(
        request,
        key,
        StatusForm(request.POST),
        lambda t, d: actions.transition(request.user, t, d["status"], reason=d["reason"]),
        "status",
    )


@agent_required
@require_POST
def change_assignment(request: AuthedRequest, key: str) -> HttpResponse:
    def apply(ticket: Ticket, data: dict) -> Any:
        if data["me"]:
            team = team_for_self(request.user, data["team"], ticket.team)
            return actions.assign(request.user, ticket, team=team, assignee=request.user)
        return actions.assign(request.user, ticket, team=data["team"], assignee=data["assignee"])

    return _run(request, key, AssignForm(request.POST), apply, "assign")


@agent_required
@require_POST
def change_priority(request: AuthedRequest, key: str) -> HttpResponse:
    return _run(
        request,
        key,
        PriorityForm(request.POST),
        lambda t, d: actions.set_priority(request.user, t, d["priority"], d["reason"]),
        "priority",
        {"priority_reason": "reason"},
    )


@agent_required
@require_POST
def link_ticket(request: AuthedRequest, key: str) -> HttpResponse:
    def apply(ticket: Ticket, data: dict) -> Any:
        other = refs.required_ticket(request.user, data["target"], "target")
        return actions.link(request.user, ticket, other, data["kind"])

    # One form links, the other merges (kind "duplicate"): each shows its own refusal.
    name = "merge" if request.POST.get("kind") == "duplicate" else "link"
    return _run(request, key, LinkForm(request.POST), apply, name)


@agent_required
@require_POST
def change_parent(request: AuthedRequest, key: str) -> HttpResponse:
    return _run(
        request,
        key,
        ParentForm(request.POST),
        lambda t, d: actions.set_parent(
            request.user, t, refs.ticket(request.user, d["parent"], "parent")
        ),
        "parent",
    )


@agent_required
@require_POST
def change_tags(request: AuthedRequest, key: str) -> HttpResponse:
    form = TagsForm(request.POST)
    return _run(
        request,
        key,
        form,
        lambda t, d: actions.update_ticket(request.user, t, tags=form.tag_list()),
        "tags",
    )


@agent_required
@require_POST
def watch(request: AuthedRequest, key: str) -> HttpResponse:
    return _run(
        request,
        key,
        WatchForm(request.POST),
        lambda t, d: actions.watch(request.user, t, on=d["on"]),
        "watch",
    )


@agent_required
@require_POST
def reply(request: AuthedRequest, key: str) -> HttpResponse:
    ticket = _ticket_or_404(request.user, key)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["attachment"]
        try:
            actions.add_comment(
                request.user,
                ticket,
                form.cleaned_data["body"],
                is_public=form.public,
                uploads=[(upload.name, upload.read())] if upload else [],
            )
            form = ReplyForm()
        except ActionError as exc:
            add_action_error(form, exc)
    error = bool(form.errors)  # each error is shown beside its field, what was typed kept
    if not request.htmx:
        return redirect("desk:ticket", key=ticket.key)
    ticket = _ticket_or_404(request.user, key)
    response = render(
        request,
        "desk/_timeline.html",
        {
            "ticket": ticket,
            "timeline": queries.timeline(request.user, ticket),
            "reply_form": form,
        },
        status=422 if error else 200,
    )
    response["HX-Trigger"] = "panel-changed"
    return response


@login_required
def download_attachment(request: AuthedRequest, attachment_id: int) -> FileResponse:
    """Attachments are served only to users who may see them (visible(): the organization,
    public files of public comments for customers, their own tickets), never as inline HTML;
    `?view=1` shows an image (PNG, JPEG, GIF, WebP: never SVG) in the browser instead."""
    attachment = visible(Attachment.objects.all(), request.user).filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404("No such attachment.")
    shown = attachment.is_image and request.GET.get("view") == "1"
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not shown,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # The browser's own image page styles itself inline; nothing else may load or run.
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
