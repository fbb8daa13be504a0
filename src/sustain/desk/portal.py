"""The customer portal: submit, follow and answer one's organization's tickets."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from sustain.core.errors import ActionError
from sustain.core.forms import add_action_error
from sustain.core.http import AuthedRequest
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible
from sustain.desk import actions, queries, workflow
from sustain.desk.forms import PortalTicketForm, ReplyForm, StatusForm
from sustain.desk.models import Ticket, TicketLink

PAGE_SIZE = 25


def _ticket_or_404(request: AuthedRequest, key: str) -> Ticket:
    ticket = queries.ticket_for(request.user, key)
    if ticket is None:
        raise Http404(f"No ticket {key}.")
    return ticket


@login_required
def ticket_list(request: AuthedRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    filters = queries.TicketFilters(
        queue="open" if show == "open" else "", q=request.GET.get("q", "")
    )
    qs = queries.with_list_relations(queries.tickets_for(request.user, filters))
    try:
        rows, next_url = paginate(request, qs, limit=PAGE_SIZE, cursor=request.GET.get("cursor"))
    except ActionError:
        rows, next_url = [], None
    return render(
        request,
        "portal/list.html",
        {
            "rows": rows,
            "next_url": next_url,
            "show": show,
            "q": filters.q,
            "words": workflow.CUSTOMER_WORDS,
        },
    )


@login_required
def new_ticket(request: AuthedRequest) -> HttpResponse:
    form = PortalTicketForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data.pop("attachment")
        uploads = [(upload.name, upload.read())] if upload else []
        try:
            ticket = actions.open_ticket(
                request.user, channel="web", uploads=uploads, chosen=set(data), **data
            )
            return redirect("portal:ticket", key=ticket.key)
        except ActionError as exc:
            add_action_error(form, exc)
    return render(request, "portal/new.html", {"form": form}, status=422 if form.errors else 200)


def _known_problems(request: AuthedRequest, ticket: Ticket) -> list[dict]:
    """The bugs behind the ticket, in the words customers get (no internal fields)."""
    from sustain.bugs.models import Bug
    from sustain.bugs.workflow import CUSTOMER_WORDS

    linked = visible(Bug.objects.filter(ticket_links__ticket=ticket), request.user)
    return [
        {"key": bug.key, "title": bug.title, "words": CUSTOMER_WORDS[bug.status]}
        for bug in linked.order_by("-id")[:20]
    ]


def _merged_into(request: AuthedRequest, ticket: Ticket) -> dict:
    """Whether the ticket was merged into another, and that ticket when the viewer may see it."""
    link = ticket.links_out.filter(kind=TicketLink.Kind.DUPLICATE).only("target_id").first()
    if link is None:
        return {"merged": False, "merged_into": None}
    target = visible(Ticket.objects.filter(pk=link.target_id), request.user).first()
    return {"merged": True, "merged_into": target}


def _ticket_page(
    request: AuthedRequest, ticket: Ticket, reply_form: ReplyForm | None = None
) -> HttpResponse:
    """The ticket as its customer sees it; `reply_form` a refused reply, shown again as typed
    with each error beside its field."""
    reply_form = reply_form or ReplyForm()
    return render(
        request,
        "portal/ticket.html",
        {
            "ticket": ticket,
            "timeline": queries.timeline(request.user, ticket),
            "files": queries.files_of(request.user, ticket),
            "reply_form": reply_form,
            "status_words": workflow.CUSTOMER_WORDS[ticket.status],
            "bugs": _known_problems(request, ticket),
            "transitions": sorted(
                workflow.allowed_transitions(ticket.status, customer=request.user.is_customer)
            ),
            **_merged_into(request, ticket),
        },
        status=422 if reply_form.errors else 200,
    )


@login_required
def ticket_page(request: AuthedRequest, key: str) -> HttpResponse:
    return _ticket_page(request, _ticket_or_404(request, key))


@login_required
@require_POST
def reply(request: AuthedRequest, key: str) -> HttpResponse:
    ticket = _ticket_or_404(request, key)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["attachment"]
        try:
            actions.add_comment(
                request.user,
                ticket,
                form.cleaned_data["body"],
                is_public=True,
                uploads=[(upload.name, upload.read())] if upload else [],
            )
            return redirect("portal:ticket", key=ticket.key)
        except ActionError as exc:
            add_action_error(form, exc)
    return _ticket_page(request, ticket, form)


@login_required
@require_POST
def change_status(request: AuthedRequest, key: str) -> HttpResponse:
    ticket = _ticket_or_404(request, key)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            actions.transition(
                request.user,
                ticket,
                form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except ActionError as exc:
            messages.error(request, exc.message)
    return redirect("portal:ticket", key=ticket.key)
