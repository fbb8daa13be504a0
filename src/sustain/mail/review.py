"""The review of held mail: an agent places it on a ticket, opens a ticket with it, or
dismisses it (re-exported by `mail.actions`, the door every caller uses)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from sustain.accounts.models import Organization, User
from sustain.core import events, tenancy
from sustain.core.errors import Conflict, Forbidden, Invalid, NotFound
from sustain.desk import actions as desk
from sustain.desk.models import Comment, Ticket
from sustain.mail import parse, store, threads
from sustain.mail.content import body_of, check_attachments, may_join, new_customer, title_of
from sustain.mail.models import InboundMail
from sustain.mail.parse import MailError, ParsedMail

Outcome = InboundMail.Status


def _check_reviewer(actor: User, mail: InboundMail) -> None:
    if not actor.is_agent:
        raise Forbidden("Only agents review held mail.")
    if not tenancy.visible(InboundMail.objects.filter(pk=mail.pk), actor).exists():
        raise NotFound("No such mail.")


def _claim(mail: InboundMail, status: str) -> None:
    """Take a held mail out of review; only one agent's conditional update succeeds."""
    if not InboundMail.objects.filter(pk=mail.pk, status=Outcome.HELD).update(status=status):
        raise Conflict("This mail is no longer held: someone dealt with it.", field="status")
    mail.status = status


def reparse(mail: InboundMail) -> ParsedMail:
    """The stored mail, read again (for its attachments and text)."""
    try:
        return parse.parse(store.load(mail.raw_path))
    except (MailError, OSError) as exc:
        raise Invalid(f"This mail cannot be read ({exc}); dismiss it.", field="mail") from None


def release(
    actor: User,
    mail: InboundMail,
    *,
    ticket: Ticket | None = None,
    organization: Organization | None = None,
    title: str = "",
    is_public: bool = True,
) -> InboundMail:
    """An agent places a held mail: added to `ticket`, or opening a new ticket of
    `organization` (by default the one the mail concerns), titled `title` or by its subject.

    Added to a ticket its sender may see, it is the sender's public reply; otherwise the agent
    adds it in their own name, quoting the sender, public or as an internal note.
    """
    _check_reviewer(actor, mail)
    if not mail.is_held:
        raise Conflict("This mail is no longer held: someone dealt with it.", field="status")
    if ticket is not None:
        desk.check_can_read(actor, ticket)
        if organization is not None and organization.pk != ticket.organization_id:
            # Two answers to one question: never pick one silently (the sender would join
            # the wrong customer, or the mail land where the agent did not mean it).
            raise Invalid(
                f"{ticket.key} belongs to {ticket.organization.name}, not {organization.name}: "
                "give the ticket to add the mail to, or the organization of a new ticket, "
                "not both.",
                field="organization",
            )
    else:
        organization = organization or mail.organization
        if organization is None:
            raise Invalid(
                "Choose the ticket to add the mail to, or the organization of a new ticket.",
                field="organization",
            )
        if not tenancy.can_see_organization(actor, organization.pk):
            raise Invalid(f"You do not serve {organization.name}.", field="organization")
    parsed = reparse(mail)
    uploads_checked, notes = check_attachments(parsed)
    uploads = [(u.filename, u.content) for u in uploads_checked]
    sender = User.objects.filter(email__iexact=parsed.sender, is_active=True).first()
    quoted = f"**E-mail from {parse.format_address(parsed.sender_name, parsed.sender)}:**\n\n"

    with transaction.atomic(), threads.answering(parsed.message_id):
        if ticket is not None:
            _claim(mail, Outcome.APPENDED)
            threads.remember(parsed.message_id, ticket, "in")
            body = body_of(parsed, notes, new=False)
            # An unauthenticated mail from an agent's address is quoted, never in their name.
            trusted = mail.authenticated or (sender is not None and not sender.is_agent)
            if sender is not None and trusted and may_join(ticket, sender, None):
                comment: Comment | None = desk.add_comment(
                    sender, ticket, body, channel="email", uploads=uploads
                )
            else:
                comment = desk.add_comment(
                    actor,
                    ticket,
                    quoted + body,
                    is_public=is_public,
                    channel="email",
                    uploads=uploads,
                )
        else:
            assert organization is not None
            _claim(mail, Outcome.OPENED)
            requester = sender
            if requester is None and not organization.is_provider:
                requester = new_customer(parsed, organization)
            if requester is not None and requester.organization_id != organization.pk:
                requester = None
            description = body_of(parsed, notes, new=True)
            ticket = desk.open_ticket(
                actor,
                title=(title or "").strip() or title_of(parsed.subject),
                description=description if requester else quoted + description,
                organization=organization,
                requester=requester,
                channel="email",
                team=mail.mailbox.team if mail.mailbox else None,
                uploads=uploads,
            )
            threads.remember(parsed.message_id, ticket, "in")
            comment = None
        before = {"status": Outcome.HELD}
        mail.ticket, mail.comment, mail.organization = ticket, comment, ticket.organization
        mail.released_by, mail.released_at = actor, timezone.now()
        mail.notes = "\n".join(notes)
        mail.save()
        events.record(
            mail,
            "released",
            actor=actor,
            before=before,
            after={"status": mail.status, "ticket": ticket.key},
            is_public=False,
        )
    return mail


def dismiss(actor: User, mail: InboundMail) -> InboundMail:
    """An agent decides a held mail needs nothing (spam, a stray newsletter)."""
    _check_reviewer(actor, mail)
    with transaction.atomic():
        _claim(mail, Outcome.IGNORED)
        mail.released_by, mail.released_at = actor, timezone.now()
        mail.save(update_fields=["released_by", "released_at"])
        events.record(
            mail,
            "dismissed",
            actor=actor,
            before={"status": Outcome.HELD},
            after={"status": Outcome.IGNORED},
            is_public=False,
        )
    return mail
