"""REST endpoints for received mail: the review of held mail (agents)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404
from ninja import Field, Query, Router, Schema

from sustain.accounts.actions import resolve_organization
from sustain.core.api import Id, Input, Page
from sustain.core.errors import Forbidden
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible
from sustain.desk import refs
from sustain.desk.models import Ticket
from sustain.mail import actions, store
from sustain.mail.models import InboundMail

router = Router(tags=["mail"])


class AuthenticationOut(Schema):
    result: str = Field(description="pass, fail, temperror, none; empty when not checked")
    method: str = Field(description="authres, dkim, token or none")
    domain: str = Field(description="The aligned domain that passed.")
    reason: str


class InboundMailOut(Schema):
    id: int
    message_id: str
    sender: str
    sender_name: str
    subject: str
    received_at: datetime
    status: str = Field(description="opened, appended, held or ignored")
    reason: str
    notes: str
    organization: str | None = Field(None, alias="organization.slug")
    ticket: str | None = Field(None, alias="ticket.key")
    mailbox: str | None = Field(None, alias="mailbox.name")
    authentication: AuthenticationOut = Field(description="Who the mail is from, and how known.")
    cc_ignored: list[str] = Field(description="Cc addresses not copied on the ticket, and why.")

    @staticmethod
    def resolve_authentication(mail: InboundMail) -> dict[str, str]:
        return {
            "result": mail.auth_result,
            "method": mail.auth_method,
            "domain": mail.auth_domain,
            "reason": mail.auth_reason,
        }

    @staticmethod
    def resolve_cc_ignored(mail: InboundMail) -> list[str]:
        return [line for line in mail.cc_ignored.splitlines() if line]


class InboundMailDetail(InboundMailOut):
    text: str = Field(
        description="The text of the mail, quotes and signature included; a long one is cut "
        "(it says so), the whole mail is at `…/raw`."
    )
    answers: str | None = Field(
        None,
        alias="answers_key",
        description="Held: the ticket the mail answers (when you may see it).",
    )


class MailFilters(Schema):
    status: InboundMail.Status | None = None
    cursor: str | None = None
    limit: int | None = Field(None, ge=1, le=200)


class HeldMailReleaseIn(Input):
    ticket: str | None = Field(None, description="Add the mail to this ticket (key)…")
    organization: str | None = Field(
        None,
        description="…or open a new ticket for this organization (slug or id); given with "
        "`ticket`, it must be that ticket's.",
    )
    title: str = Field("", max_length=300, description="The new ticket's title; the subject.")
    is_public: bool = Field(
        True, description="Added by you to a ticket its sender may not see: public or internal."
    )


def _agent(request: ApiRequest) -> Any:
    if not request.auth.is_agent:
        raise Forbidden("Only agents see received mail.")
    return request.auth


def _mail(request: ApiRequest, mail_id: Id) -> InboundMail:
    found = (
        visible(InboundMail.objects.all(), _agent(request))
        .select_related("organization", "ticket", "mailbox", "mailbox__team")
        .filter(pk=mail_id)
        .first()
    )
    if found is None:
        raise Http404("No such mail.")
    return found


def _detail(request: ApiRequest, mail: InboundMail) -> InboundMail:
    """The mail, with the key of the ticket it answers if the reader may see that ticket."""
    answers = None
    if mail.answers_id is not None:
        seen = visible(Ticket.objects.filter(pk=mail.answers_id), request.auth).first()
        answers = seen.key if seen else None
    mail.answers_key = answers  # type: ignore[attr-defined]
    return mail


@router.get("/mail/inbound", response=Page[InboundMailOut])
def list_mail(request: ApiRequest, filters: Query[MailFilters]):
    """Received mail, newest first; `status=held` is the review queue. Agents only (for
    customers the list is empty)."""
    qs = (
        visible(InboundMail.objects.all(), request.auth)
        .select_related("organization", "ticket", "mailbox")
        .defer("text")  # not listed; up to ~120,000 characters a mail
    )
    if filters.status:
        qs = qs.filter(status=filters.status)
    rows, next_url = paginate(
        request, qs, order=("-id",), limit=filters.limit, cursor=filters.cursor
    )
    return {"results": rows, "next": next_url}


@router.get("/mail/inbound/{mail_id}", response=InboundMailDetail)
def get_mail(request: ApiRequest, mail_id: Id):
    return _detail(request, _mail(request, mail_id))


@router.get(
    "/mail/inbound/{mail_id}/raw",
    openapi_extra={
        "responses": {200: {"description": "The mail", "content": {"message/rfc822": {}}}}
    },
)
def get_raw_mail(request: ApiRequest, mail_id: int):
    """The mail exactly as received (message/rfc822), streamed; agents only."""
    mail = _mail(request, mail_id)
    return store.download(mail.raw_path, f"mail-{mail.pk}.eml")


@router.post("/mail/inbound/{mail_id}/release", response=InboundMailDetail)
def release_mail(request: ApiRequest, mail_id: Id, payload: HeldMailReleaseIn):
    """Place a held mail: into an existing ticket, or as a new ticket of an organization."""
    mail, actor = _mail(request, mail_id), request.auth
    ticket = refs.ticket(actor, payload.ticket, "ticket")
    organization = resolve_organization(payload.organization) if payload.organization else None
    actions.release(
        actor,
        mail,
        ticket=ticket,
        organization=organization,
        title=payload.title,
        is_public=payload.is_public,
    )
    return _detail(request, _mail(request, mail_id))


@router.post("/mail/inbound/{mail_id}/dismiss", response=InboundMailDetail)
def dismiss_mail(request: ApiRequest, mail_id: Id):
    """A held mail needs nothing (spam, a stray newsletter): mark it ignored."""
    actions.dismiss(request.auth, _mail(request, mail_id))
    return _detail(request, _mail(request, mail_id))
