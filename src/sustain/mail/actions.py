"""Inbound e-mail: one ingestion action behind every door (the review of held mail is in
`review`, re-exported here).

`ingest` is what `sustain mail ingest` (a mail server's pipe), `sustain mail serve` (SMTP and
LMTP) and `sustain mail fetch` (IMAP, also every minute in the worker) all call. It decides
everything from the mail and the database first (`_plan`, which only reads), then writes in
one transaction through the desk's own actions (`open_ticket`, `add_comment`), so an e-mail
gets the same events, SLA clocks and notifications as the portal and the API. Who a mail is
from is decided by `authentication.authenticate` (DKIM, DMARC, reply tokens), never by its From
alone: an agent's mail must pass, and only an authenticated mail copies its Cc on the ticket.

Nothing in a mail makes ingestion raise: a mail it cannot read, or cannot place, is stored and
held with the reason. Only a failing database (or disk) raises, so that the door can answer
"try again later" and the sender's server delivers it again.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, transaction

from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, Role, User
from sustain.core import attachments as files
from sustain.core import tenancy
from sustain.core.errors import ActionError
from sustain.desk import actions as desk
from sustain.desk.models import Status, Ticket, TicketLink
from sustain.mail import authentication, parse, store, threads, tokens
from sustain.mail.authentication import Verdict
from sustain.mail.content import (
    CUT_NOTE,
    body_of,
    check_attachments,
    may_join,
    new_customer,
    title_of,
)
from sustain.mail.models import DomainRoute, InboundMail, Mailbox, MessageRef
from sustain.mail.parse import MailError, ParsedMail
from sustain.mail.review import dismiss, release, reparse

log = logging.getLogger(__name__)

Outcome = InboundMail.Status
CLOSED_STATUSES = (Status.CLOSED, Status.CANCELLED)
MAX_CC = 20  # addresses of a mail's Cc copied on its ticket
OVERSIZED_HEAD = 256 * 1024  # bytes of a mail too large to read that are kept (its headers)


@dataclass
class Plan:
    """What to do with one parsed mail, decided before anything is written."""

    status: str
    reason: str = ""
    organization: Organization | None = None  # whom the mail concerns (tenancy of the row)
    ticket: Ticket | None = None  # the ticket to add the mail to
    sender: User | None = None  # the sender, when a user already
    new_customer_of: Organization | None = None  # else make the sender a customer here
    follow_up_of: Ticket | None = None  # a closed ticket the mail answered
    answers: Ticket | None = None  # held: the ticket it answers but may not join
    fresh_id: bool = False  # its Message-ID was unknown when planned
    uploads: list[files.CheckedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verdict: Verdict | None = None  # who the mail is from (authentication.py)


# --- ingestion ---------------------------------------------------------------------------------
def ingest(
    raw: bytes, *, mailbox: Mailbox | None = None, recipients: list[str] | None = None
) -> InboundMail:
    """Store one received mail (once per Message-ID) and open a ticket with it, add it to its
    ticket, hold it for review or ignore it (auto-replies, bounces); returns the stored row.
    `recipients`: the envelope's (RCPT TO), when the door knows them (reply tokens)."""
    raw = bytes(raw)
    for attempt in (1, 2):
        try:
            return _ingest(raw, mailbox, recipients or [])
        except IntegrityError:
            # A concurrent delivery of the same mail, or of another first mail from the same
            # new sender, won the race; the second look finds what it wrote.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ingest(raw: bytes, mailbox: Mailbox | None, recipients: list[str]) -> InboundMail:
    if len(raw) > settings.MAIL_MAX_BYTES:
        limit = settings.MAIL_MAX_BYTES // (1024 * 1024)
        return _store_only(
            raw, _fallback_id(raw), Outcome.HELD, f"larger than {limit} MiB", mailbox
        )
    try:
        parsed = parse.parse(raw)
    except MailError as exc:
        return _store_only(raw, _fallback_id(raw), Outcome.HELD, str(exc), mailbox)
    existing = _stored(parsed.message_id)
    if existing is not None:
        return existing
    try:
        plan = _plan(parsed, mailbox, raw, tuple(recipients))
        return _carry_out(plan, parsed, raw, mailbox)
    except IntegrityError:
        existing = _stored(parsed.message_id)
        if existing is not None:
            return existing
        raise
    except ActionError as exc:
        return _store_only(raw, parsed.message_id, Outcome.HELD, exc.message, mailbox, parsed)
    except DatabaseError:
        raise
    except Exception as exc:  # a mail must never be lost over a defect: keep it for an agent
        log.exception("mail %s could not be processed", parsed.message_id)
        reason = f"could not be processed ({type(exc).__name__}); kept for review"
        return _store_only(raw, parsed.message_id, Outcome.HELD, reason, mailbox, parsed)


def hold_oversized(head: bytes, *, mailbox: Mailbox | None = None) -> InboundMail:
    """A mail over MAIL_MAX_BYTES that its door could not refuse (IMAP: it is in the mailbox
    already): held for review with its beginning (the headers), the rest left on the server."""
    head = head[:OVERSIZED_HEAD]
    limit = settings.MAIL_MAX_BYTES // (1024 * 1024)
    reason = f"larger than {limit} MiB: only its beginning was read; it stays on the mail server"
    try:
        parsed: ParsedMail | None = parse.parse(head)  # who sent it, and about what
    except MailError:
        parsed = None
    message_id = parsed.message_id if parsed else _fallback_id(head)
    return _store_only(head, message_id, Outcome.HELD, reason, mailbox, parsed)


def _stored(message_id: str) -> InboundMail | None:
    """The mail stored under `message_id`, if any. Its id is looked up first: almost every
    mail is new, and reading no row costs a third of what reading the whole row does."""
    found = InboundMail.objects.filter(message_id=message_id).values_list("pk", flat=True)[:1]
    return InboundMail.objects.get(pk=found[0]) if found else None


def _fallback_id(raw: bytes) -> str:
    """The Message-ID of a mail the parser refused, read from the raw header, or a digest."""
    head = raw[:OVERSIZED_HEAD].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("latin-1")
    found = re.search(r"^message-id:\s*<([^<>\s\x00]{1,250})>", head, re.I | re.M)
    if found:
        return found.group(1).lower()
    return f"sha256-{hashlib.sha256(raw).hexdigest()[:40]}@sustain.invalid"


def _store_only(
    raw: bytes,
    message_id: str,
    status: str,
    reason: str,
    mailbox: Mailbox | None,
    parsed: ParsedMail | None = None,
    plan: Plan | None = None,
) -> InboundMail:
    """Keep a mail that opens nothing: held for review, or ignored."""
    existing = _stored(message_id)
    if existing is not None:
        return existing
    organization = plan.organization if plan else None
    if organization is None and parsed is not None:
        organization = _sender_organization(parsed.sender, mailbox)
    row = _row(raw, message_id, status, reason, mailbox, parsed, organization, plan)
    with transaction.atomic():
        return InboundMail.objects.create(**row)


def _row(
    raw: bytes,
    message_id: str,
    status: str,
    reason: str,
    mailbox: Mailbox | None,
    parsed: ParsedMail | None,
    organization: Organization | None,
    plan: Plan | None = None,
) -> dict[str, Any]:
    verdict = plan.verdict if plan else None
    return {
        "auth_result": verdict.result if verdict else "",
        "auth_method": verdict.method if verdict else "",
        "auth_domain": verdict.domain[:255] if verdict else "",
        "auth_reason": verdict.reason if verdict else "",
        "message_id": message_id[:255],
        "sender": (parsed.sender if parsed else "")[:254],
        "sender_name": (parsed.sender_name if parsed else "")[:200],
        "subject": (parsed.subject if parsed else "")[:300],
        "status": status,
        "reason": reason[:500],
        "notes": "\n".join(plan.notes if plan else []),
        "answers": plan.answers if plan else None,
        "text": parsed.stored_text if parsed else "",
        "raw_path": store.save(raw),
        "size": len(raw),
        "organization": organization,
        "mailbox": mailbox,
    }


def _own_address() -> str:
    from email.utils import parseaddr

    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()


def _sender_organization(address: str, mailbox: Mailbox | None) -> Organization | None:
    user = User.objects.filter(email__iexact=address).select_related("organization").first()
    if user is not None:
        return None if user.organization.is_provider else user.organization
    return _routed_organization(address, mailbox)


def _routed_organization(address: str, mailbox: Mailbox | None) -> Organization | None:
    """The organization an unknown sender belongs to: by the domain of the address, then by
    the mailbox the mail came through, then (with SUSTAIN_MAIL_UNKNOWN=open) the default."""
    domain = address.rsplit("@", 1)[-1].lower()
    route = DomainRoute.objects.filter(domain=domain).select_related("organization").first()
    if route is not None:
        return route.organization
    if mailbox is not None and mailbox.organization_id is not None:
        return mailbox.organization
    if settings.MAIL_UNKNOWN == "open" and settings.MAIL_DEFAULT_ORGANIZATION:
        return Organization.objects.filter(
            slug=settings.MAIL_DEFAULT_ORGANIZATION, is_provider=False
        ).first()
    return None


def _thread(parsed: ParsedMail, refs: dict[str, tuple[str, int]]) -> Ticket | None:
    """The ticket a mail answers: by In-Reply-To/References (`refs`: the Message-IDs known,
    with their direction and ticket), then by the key in the subject; a ticket merged into
    another leads to that one."""
    ticket_id = next((refs[m][1] for m in parsed.thread_ids if m in refs), None)
    ticket = (
        Ticket.objects.select_related("organization").filter(pk=ticket_id).first()
        if ticket_id is not None
        else None
    )
    if ticket is None and parsed.ticket_keys:
        found = {
            t.key: t
            for t in Ticket.objects.filter(key__in=parsed.ticket_keys).select_related(
                "organization"
            )
        }
        ticket = next((found[k] for k in parsed.ticket_keys if k in found), None)
    return _merged_into(ticket)


def _merged_into(ticket: Ticket | None) -> Ticket | None:
    """The ticket a merged duplicate was merged into (and so on), else `ticket`."""
    for _ in range(5):
        if ticket is None or ticket.status != Status.CLOSED:  # a merged duplicate is closed
            break
        merged = (
            TicketLink.objects.filter(source=ticket, kind=TicketLink.Kind.DUPLICATE)
            .select_related("target")
            .first()
        )
        if merged is None:
            break
        ticket = merged.target
    return ticket


def _plan(
    parsed: ParsedMail, mailbox: Mailbox | None, raw: bytes = b"", recipients: tuple[str, ...] = ()
) -> Plan:
    """Decide what becomes of the mail. Reads only."""
    if parsed.auto_reason:
        return Plan(Outcome.IGNORED, f"automatic mail ({parsed.auto_reason}); never answered")
    # The mail's own Message-ID and those it answers, in one query (the ticket, if any, next).
    refs = {
        message_id: (direction, ticket_id)
        for message_id, direction, ticket_id in MessageRef.objects.filter(
            message_id__in=[parsed.message_id, *parsed.thread_ids]
        ).values_list("message_id", "direction", "ticket_id")
    }
    own = refs.get(parsed.message_id)
    if parsed.sender == _own_address() or (own and own[0] == MessageRef.Direction.OUT):
        return Plan(Outcome.IGNORED, "Sustain's own mail came back")
    try:
        if len(parsed.sender) > 254:
            raise ValidationError("too long")
        validate_email(parsed.sender)
    except ValidationError:
        return Plan(Outcome.HELD, f"the sender address '{parsed.sender[:100]}' is not valid")
    verdict = authentication.authenticate(raw, parsed, recipients=recipients)
    plan = _place(parsed, mailbox, refs, verdict)
    plan.fresh_id = own is None
    plan.verdict = verdict
    return plan


def _refusal(verdict: Verdict, sender: User | None) -> str:
    """Why a mail is held for who it claims to be from, or "" when it may go on."""
    if verdict.authenticated:
        return ""
    if sender is not None and sender.is_agent:
        # Agents answering by mail is the attractive target: their mail must prove itself.
        return f"a mail from an agent's address must be authenticated: {verdict.reason}"
    if verdict.result != authentication.NONE:
        return f"not authenticated: {verdict.reason}"
    if settings.MAIL_UNAUTHENTICATED == "hold":
        return f"{verdict.reason} (SUSTAIN_MAIL_UNAUTHENTICATED=hold)"
    return ""


def _place(
    parsed: ParsedMail, mailbox: Mailbox | None, refs: dict[str, tuple[str, int]], verdict: Verdict
) -> Plan:
    if verdict.method == authentication.TOKEN:
        # The reply of the customer the notification went to, whatever its From says.
        sender: User | None = verdict.user
        ticket = _merged_into(verdict.ticket)
    else:
        # Addresses are stored in lower case, as the parser gives them: the unique index answers.
        sender = User.objects.filter(email=parsed.sender).select_related("organization").first()
        ticket = _thread(parsed, refs)
    if sender is not None and (not sender.is_active or sender.email == accounts.SYSTEM_EMAIL):
        return Plan(Outcome.HELD, f"{sender.email} may not write to the desk (inactive account)")
    routed = None if sender is not None else _routed_organization(parsed.sender, mailbox)
    home = routed if sender is None else (None if sender.is_agent else sender.organization)
    uploads, notes = check_attachments(parsed)
    if refusal := _refusal(verdict, sender):
        concerns = home or (ticket.organization if ticket is not None else None)
        return Plan(Outcome.HELD, refusal, organization=concerns, answers=ticket, notes=notes)
    plan = Plan(Outcome.OPENED, organization=home, sender=sender, uploads=uploads, notes=notes)

    if ticket is not None:
        if not may_join(ticket, sender, routed):
            refusal = (
                f"{parsed.sender} answers a ticket it may not see (neither an agent serving "
                "the ticket's customer nor a customer of it)"
            )
            if settings.MAIL_UNKNOWN != "open" or (sender is None and routed is None):
                return Plan(Outcome.HELD, refusal, organization=home, answers=ticket, notes=notes)
            plan.reason = f"opened apart: {refusal}"
        elif ticket.status in CLOSED_STATUSES:
            plan.follow_up_of = ticket
            plan.organization = ticket.organization
            plan.reason = f"follows up {ticket.key}, which is {ticket.status}"
        else:
            plan.status, plan.ticket, plan.organization = (
                Outcome.APPENDED,
                ticket,
                ticket.organization,
            )
            plan.new_customer_of = routed if sender is None else None
            return plan

    if sender is None:
        if routed is None:
            return Plan(
                Outcome.HELD,
                f"unknown sender {parsed.sender}: no user, and no domain route or mailbox "
                "names an organization",
                notes=notes,
            )
        plan.new_customer_of = routed
    elif sender.is_agent and plan.follow_up_of is None:
        if mailbox is None or mailbox.organization is None:
            return Plan(
                Outcome.HELD,
                "a new mail from an agent: choose the customer it is about",
                notes=notes,
            )
        plan.organization = mailbox.organization
    return plan


def _watchers(
    parsed: ParsedMail, organization: Organization, sender: User, verdict: Verdict | None
) -> list[User]:
    """People an authenticated mail was sent or copied to who are customers of the ticket's
    organization watch it (and see it in the portal)."""
    addresses = [a for a in parsed.cc + parsed.to if a != sender.email][:50]
    if not addresses or verdict is None or not verdict.authenticated:
        return []
    return list(
        User.objects.filter(
            email__in=addresses, organization=organization, role=Role.CUSTOMER, is_active=True
        )
    )


def _copy(parsed: ParsedMail, ticket: Ticket, sender: User, verdict: Verdict | None) -> list[str]:
    """Whoever an authenticated mail was copied to (Cc) is copied on the ticket's mail from
    now on, if the address belongs to the ticket's organization (a user of it, or its routed
    domain); an agent's Cc is the agent adding the address. Never Sustain's own addresses, nor
    users who may not see the ticket's customer. Returns the addresses ignored, with why."""
    if not parsed.cc:
        return []
    from sustain.notifications import actions as notifications

    ours = {_own_address(), sender.email}
    ours |= {
        a.lower() for a in Mailbox.objects.exclude(address="").values_list("address", flat=True)
    }
    wanted = [a for a in dict.fromkeys(parsed.cc) if tokens.without_tag(a) not in ours]
    if verdict is None or not verdict.authenticated:
        return [f"{a}: the sender is not authenticated" for a in wanted]
    ignored = [f"{a}: more than {MAX_CC} addresses" for a in wanted[MAX_CC:]]
    wanted = wanted[:MAX_CC]
    users = {u.email: u for u in User.objects.filter(email__in=wanted)}
    routed = set(
        DomainRoute.objects.filter(organization_id=ticket.organization_id).values_list(
            "domain", flat=True
        )
    )
    allowed = []
    for address in wanted:
        user = users.get(address)
        try:
            validate_email(address)
        except ValidationError:
            ignored.append(f"{address}: not an e-mail address")
            continue
        if user is not None and not tenancy.can_see_organization(user, ticket.organization_id):
            ignored.append(f"{address}: may not see {ticket.organization.name}")
        elif sender.is_agent or (
            user.organization_id == ticket.organization_id
            if user is not None
            else address.rsplit("@", 1)[-1] in routed
        ):
            allowed.append(address)
        else:
            ignored.append(f"{address}: neither a user nor a domain of {ticket.organization.name}")
    if allowed:
        notifications.add_cc(sender, ticket, allowed)
    return ignored


def _carry_out(plan: Plan, parsed: ParsedMail, raw: bytes, mailbox: Mailbox | None) -> InboundMail:
    if plan.status in (Outcome.HELD, Outcome.IGNORED):
        return _store_only(raw, parsed.message_id, plan.status, plan.reason, mailbox, parsed, plan)
    uploads = [(u.filename, u.content) for u in plan.uploads]
    with transaction.atomic(), threads.answering(parsed.message_id):
        sender = plan.sender
        if sender is None:
            assert plan.new_customer_of is not None
            sender = new_customer(parsed, plan.new_customer_of)
        if plan.status == Outcome.APPENDED:
            assert plan.ticket is not None
            ticket = plan.ticket
            # Remembered before the comment: the notifications it sends answer this mail.
            threads.remember(parsed.message_id, ticket, "in", fresh=plan.fresh_id)
            comment = desk.add_comment(
                sender,
                ticket,
                body_of(parsed, plan.notes, new=False),
                channel="email",
                uploads=uploads,
            )
        else:
            ticket = _open(plan, parsed, sender, mailbox, uploads)
            threads.remember(parsed.message_id, ticket, "in", fresh=plan.fresh_id)
            comment = None
        ignored = _copy(parsed, ticket, sender, plan.verdict)
        # The row last, with what became of the mail: a second delivery of the same mail
        # that raced this one fails here on the unique Message-ID, and undoes all it did.
        row = _row(raw, parsed.message_id, plan.status, plan.reason, mailbox, parsed, None, plan)
        mail = InboundMail.objects.create(
            **row
            | {
                "ticket": ticket,
                "comment": comment,
                "organization": ticket.organization,
                "cc_ignored": "\n".join(ignored),
            }
        )
    return mail


def _open(
    plan: Plan,
    parsed: ParsedMail,
    sender: User,
    mailbox: Mailbox | None,
    uploads: list[tuple[str, bytes]],
) -> Ticket:
    description = body_of(parsed, plan.notes, new=True)
    if plan.follow_up_of is not None:
        description = f"Follow-up to {plan.follow_up_of.key}.\n\n{description}"
    if sender.is_customer:
        ticket = desk.open_ticket(
            sender,
            title=title_of(parsed.subject),
            description=description,
            channel="email",
            watchers=_watchers(parsed, sender.organization, sender, plan.verdict),
            uploads=uploads,
        )
    else:
        organization = plan.organization or sender.organization
        ticket = desk.open_ticket(
            sender,
            title=title_of(parsed.subject),
            description=description,
            organization=organization,
            requester=sender if organization.pk == sender.organization_id else None,
            channel="email",
            uploads=uploads,
        )
    system = None
    if mailbox is not None and mailbox.team_id is not None:
        system = accounts.system_actor()
        desk.assign(system, ticket, team=mailbox.team)
    if plan.follow_up_of is not None:
        desk.link(system or accounts.system_actor(), ticket, plan.follow_up_of)
    return ticket


# The doors' names: this module's and those of mail/review.py.
__all__ = ["CUT_NOTE", "dismiss", "hold_oversized", "ingest", "release", "reparse"]
