"""Received mail for agents: the held mail to review, each mail in full, release and dismiss."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from sustain.accounts.models import Organization
from sustain.core.access import agent_required
from sustain.core.errors import ActionError
from sustain.core.forms import add_action_error
from sustain.core.http import AuthedRequest
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible
from sustain.desk import refs
from sustain.desk.models import Ticket
from sustain.mail import actions, store
from sustain.mail.models import InboundMail

PAGE_SIZE = 50


class ReleaseForm(forms.Form):
    ticket = forms.CharField(required=False, max_length=20, label="Add to ticket (key)")
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(), required=False, label="or open a new ticket for"
    )
    title = forms.CharField(required=False, max_length=300, label="titled (the subject if empty)")
    is_public = forms.BooleanField(
        required=False,
        initial=True,
        label="Public (when you add it to a ticket its sender may not see)",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = visible(Organization.objects.customers(), user)


def _mails(user: Any):  # type: ignore[no-untyped-def]
    return visible(InboundMail.objects.all(), user).select_related(
        "organization", "ticket", "mailbox"
    )


@agent_required
def mail_raw(request: AuthedRequest, mail_id: int) -> HttpResponse:
    """The mail exactly as received, streamed as an .eml download."""
    mail = _mail_or_404(request.user, mail_id)
    return store.download(mail.raw_path, f"mail-{mail.pk}.eml")  # type: ignore[return-value]


@agent_required
def mail_list(request: AuthedRequest) -> HttpResponse:
    """Held mail by default; `?status=all` or another status; `?ticket=KEY` a ticket's mail;
    `?comment=ID` the mail a comment came from."""
    qs = _mails(request.user).defer("text")
    if comment := request.GET.get("comment", ""):
        found = qs.filter(comment_id=int(comment) if comment.isdigit() else 0).first()
        if found is None:
            raise Http404("No mail for this comment.")
        return redirect("mail:detail", mail_id=found.pk)
    status = request.GET.get("status", "held")
    ticket_key = request.GET.get("ticket", "")
    if ticket_key:
        qs, status = qs.filter(ticket__key=ticket_key.upper()), "all"
    if status in InboundMail.Status.values:
        qs = qs.filter(status=status)
    rows, next_url = paginate(
        request, qs, order=("-id",), limit=PAGE_SIZE, cursor=request.GET.get("cursor")
    )
    return render(
        request,
        "inbound/list.html",
        {
            "rows": rows,
            "next_url": next_url,
            "status": status,
            "ticket_key": ticket_key,
            "statuses": InboundMail.Status.choices,
        },
    )


def _mail_or_404(user: Any, mail_id: int) -> InboundMail:
    found = _mails(user).select_related("mailbox__team").filter(pk=mail_id).first()
    if found is None:
        raise Http404("No such mail.")
    return found


@agent_required
def mail_detail(request: AuthedRequest, mail_id: int) -> HttpResponse:
    """The mail in full; posting the form releases a held mail into a ticket."""
    mail = _mail_or_404(request.user, mail_id)
    initial: dict[str, Any] = {"organization": mail.organization_id, "is_public": True}
    answers = None
    if mail.answers_id is not None:
        answers = visible(Ticket.objects.filter(pk=mail.answers_id), request.user).first()
    form = ReleaseForm(request.POST or None, user=request.user, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = refs.ticket(request.user, data["ticket"], "ticket")
                actions.release(
                    request.user,
                    mail,
                    ticket=ticket,
                    organization=data["organization"],
                    title=data["title"],
                    is_public=data["is_public"],
                )
                messages.success(request, "The mail was released.")
                return redirect("mail:detail", mail_id=mail.pk)
            except ActionError as exc:
                add_action_error(form, exc)
        status = 422
    attachments: list[str] = []
    if mail.is_held:
        try:
            attachments = [a.filename for a in actions.reparse(mail).attachments]
        except ActionError:
            attachments = []
    return render(
        request,
        "inbound/detail.html",
        {"mail": mail, "form": form, "answers": answers, "attachments": attachments},
        status=status,
    )


@agent_required
@require_POST
def dismiss(request: AuthedRequest, mail_id: int) -> HttpResponse:
    mail = _mail_or_404(request.user, mail_id)
    try:
        actions.dismiss(request.user, mail)
        messages.success(request, "The mail was dismissed.")
    except ActionError as exc:
        messages.error(request, exc.message)
    return redirect("mail:detail", mail_id=mail.pk)
