"""Who is told what about a ticket, by e-mail and by webhook, at the moments it happens.

Called by the desk's actions and the SLA engine inside their transactions; the mail and the
webhook events leave through the outbox once the change commits. The desk's mails are one
outbox row per moment, rendered and fanned out to each recipient by the worker
(notifications.mailing.later); the recipients are chosen here, at the moment.

| moment            | e-mail to                                                          | webhook            |
|-------------------|--------------------------------------------------------------------|--------------------|
| ticket created    | requester, watchers, CC, organization contacts; the assignee, or  | ticket.created     |
|                   | the team when nobody is assigned (not the agent who opened it)     |                    |
| public reply      | requester, watchers, CC, organization contacts, assignee — not    | comment.created    |
|                   | the author                                                         | (notes: staff-level)|
| status changed    | requester, watchers, CC, organization contacts, assignee — not    | ticket.status_changed |
|                   | the one who changed it (a reply that moves it tells by itself)     |                    |
| assigned          | the new assignee, or the new team when nobody is assigned          | ticket.assigned    |
| other changes     | —                                                                  | ticket.updated     |
| SLA warning       | the assignee, or the team lead when nobody is assigned             | sla.warning        |
| SLA breached      | the assignee and the team lead                                     | sla.breached       |
| escalation        | whom the rule's level names                                        | ticket.escalated   |

Each user's preferences (notifications.Preferences) then decide: at once, in the daily
digest, or not at all. Customers are told only about tickets they may see.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from sustain.core import tenancy
from sustain.core.models import Event
from sustain.hooks import actions as hooks
from sustain.hooks.models import EventType, Subscription
from sustain.notifications import mailing, preferences
from sustain.notifications.models import Moment

STATUS_FIELDS = {"status"}
ASSIGNMENT_FIELDS = {"team", "assignee"}


def _can_see(user: Any, ticket: Any) -> bool:
    return tenancy.customer_sees(user, ticket)


def _followers(ticket: Any, *, exclude: Any = None, contacts: list[Any] | None = None) -> list[Any]:
    """Requester, watchers, CC addresses, organization contacts (`contacts` when the caller
    read them already) and the assignee."""
    people: list[Any] = [ticket.requester, ticket.assignee, *ticket.watchers.all()]
    if contacts is None:
        contacts = preferences.organization_contacts(ticket.organization)
    people += contacts
    chosen: list[Any] = [
        p for p in people if p is not None and _can_see(p, ticket) and p != exclude
    ]
    excluded = exclude.email.lower() if exclude is not None else None
    chosen += [cc.email for cc in ticket.cc.all() if cc.email.lower() != excluded]
    return chosen


def _team(ticket: Any, *, exclude: Any = None) -> list[Any]:
    """The team's own address when it has one, else its members."""
    team = ticket.team
    if team is None:
        return []
    if team.email:
        return [team.email]
    return [m for m in team.members.all() if m != exclude and _can_see(m, ticket)]


def _mail(
    ticket: Any,
    people: list[Any],
    template: str,
    key: str,
    moment: str,
    **extra: Any,
) -> None:
    from sustain.desk.workflow import CUSTOMER_WORDS

    # Rendered by the worker, from the ticket and comment as they are now.
    mailing.later(
        people,
        template,
        {"ticket": ticket, "status_words": CUSTOMER_WORDS[ticket.status], **extra},
        dedupe_key=key,
        headers={"X-Sustain-Ticket": ticket.key},
        ticket=ticket,
        event=moment,
        snapshot=("ticket", "comment"),
    )


def _key(event: Event | None, fallback: Model) -> str:
    return str(event.pk) if event is not None else f"{fallback._meta.label_lower}:{fallback.pk}"


# --- the desk's moments ----------------------------------------------------------------------
def ticket_created(
    ticket: Any,
    actor: Any,
    event: Event,
    *,
    subscriptions: list[Subscription] | None = None,
    contacts: list[Any] | None = None,
) -> None:
    """`subscriptions` and `contacts`: the organization's webhooks and contacts, when the
    caller read them already (before its transaction)."""
    exclude = None if actor.pk == ticket.requester_id else actor
    people = _followers(ticket, exclude=exclude, contacts=contacts)
    if ticket.assignee is None:
        people += _team(ticket, exclude=actor)
    _mail(
        ticket,
        people,
        "desk/mail/ticket_created",
        f"ticket-created:{ticket.pk}",
        Moment.TICKET_CREATED,
    )
    hooks.emit(
        EventType.TICKET_CREATED,
        ticket,
        key=_key(event, ticket),
        actor=actor,
        subscriptions=subscriptions,
    )


def comment_added(
    ticket: Any, comment: Any, actor: Any, event: Event, *, mail: bool = True
) -> None:
    """A public reply or internal note; `mail` False when the action mails it itself, once
    the ticket has moved (add_comment), or its mail carries it (a status change's reason)."""
    if comment.is_public and mail:
        public_reply(ticket, comment, actor)
    hooks.emit(
        EventType.COMMENT_CREATED,
        ticket,
        key=_key(event, comment),
        internal=not comment.is_public,
        actor=actor,
        comment=comment,
    )


def public_reply(ticket: Any, comment: Any, actor: Any) -> None:
    _mail(
        ticket,
        _followers(ticket, exclude=actor),
        "desk/mail/public_reply",
        f"public-reply:{comment.pk}",
        Moment.PUBLIC_REPLY,
        comment=comment,
    )


def ticket_changed(
    ticket: Any,
    actor: Any,
    before: dict[str, Any],
    after: dict[str, Any],
    event: Event | None,
    *,
    quiet: bool = False,
    reason: str = "",
) -> None:
    """A change recorded on the timeline: status, assignment, or other fields. `quiet` when
    the action tells the people itself (a public reply that moved the status); `reason` is
    what the agent wrote with a status change."""
    key = _key(event, ticket)

    def changes(fields: set[str] | None) -> dict[str, tuple[Any, Any]]:
        return {
            k: (before.get(k), after[k])
            for k in after
            if (k in fields if fields is not None else k not in STATUS_FIELDS | ASSIGNMENT_FIELDS)
        }

    if "status" in after:
        if not quiet:
            _mail(
                ticket,
                _followers(ticket, exclude=actor),
                "desk/mail/status_changed",
                f"status-changed:{key}",
                Moment.STATUS_CHANGED,
                old_status=before.get("status"),
                reason=reason,
                actor=actor,
            )
        hooks.emit(
            EventType.TICKET_STATUS_CHANGED,
            ticket,
            key=key,
            actor=actor,
            changes=changes(STATUS_FIELDS),
        )
    if ASSIGNMENT_FIELDS & set(after):
        people: list[Any] = []
        if ticket.assignee is not None and "assignee" in after and ticket.assignee != actor:
            people = [ticket.assignee]
        elif ticket.assignee is None and "team" in after:
            people = _team(ticket, exclude=actor)
        _mail(
            ticket,
            people,
            "desk/mail/assigned",
            f"assigned:{key}",
            Moment.ASSIGNED,
            actor=actor,
        )
        hooks.emit(
            EventType.TICKET_ASSIGNED,
            ticket,
            key=key,
            actor=actor,
            changes=changes(ASSIGNMENT_FIELDS),
        )
    others = changes(None)
    if others:
        hooks.emit(EventType.TICKET_UPDATED, ticket, key=key, actor=actor, changes=others)


# --- the SLA engine's moments ----------------------------------------------------------------
def sla_alert(clock: Any, what: str, *, subscriptions: list[Subscription] | None = None) -> None:
    """An SLA warning ("warning") or breach ("breach") of one clock, claimed once by the sweep."""
    ticket = clock.ticket
    lead = ticket.team.lead if ticket.team is not None else None
    if what == "breach":
        people = [p for p in (ticket.assignee, lead) if p is not None]
    else:
        people = [ticket.assignee] if ticket.assignee else [lead] if lead else []
    key = f"{clock.pk}:{clock.started_at.isoformat()}"
    mailing.email(
        [p for p in people if _can_see(p, ticket)],
        f"sla/mail/{what}",
        {"ticket": ticket, "clock": clock},
        dedupe_key=f"sla-{what}:{key}",
        event=Moment.SLA_BREACHED if what == "breach" else Moment.SLA_WARNING,
    )
    hooks.emit(
        EventType.SLA_BREACHED if what == "breach" else EventType.SLA_WARNING,
        ticket,
        key=key,
        clock=clock,
        subscriptions=subscriptions,
    )


def escalated(ticket: Any, firing: Any, rule: Any, level: int, done: list[str]) -> None:
    """An escalation level fired (the people it names were mailed by its actions)."""
    hooks.emit(
        EventType.TICKET_ESCALATED,
        ticket,
        key=str(firing.pk),
        escalation={"rule": rule.name, "level": level, "actions": done},
    )
