"""Customers told: when a deployment brings fixes to an environment, the people who were hit
learn it, without anyone writing the mail by hand.

Called by `succeed_deployment` inside its transaction: the mails are outbox rows and the ticket
notes are written with it, so they are never lost (a crash rolls everything back) and never
doubled (one dedupe key per deployment and person).

Which bugs: those fixed by the deployed release and by every release on the way from the
version the environment ran before (a jump 8.0.0 → 8.0.3 delivers 8.0.1 and 8.0.2 too), less
any the new version is still affected by (a backport that never reached a newer line). Of these,
the organization's bugs: linked to one of its tickets, or seen on this environment.

Who is told, once each: the organization's contacts (every bug of the organization) and the
requesters of the linked open tickets (the bugs of their tickets), by their preference for
"fix_deployed". The linked open tickets that name this environment (or none) get a public note,
and are resolved when RESOLVE_INCIDENTS_ON_FIX is on (the default). The desk's own reply and
status mails are held back: the fix notice is the one message.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings

from sustain.bugs.models import Bug, BugTicket
from sustain.cmdb.models import Version
from sustain.core import events
from sustain.desk.models import OPEN_STATUSES, Status, Ticket
from sustain.notifications import mailing, preferences
from sustain.notifications.models import Moment
from sustain.releases.deployments import installbase

TEMPLATE = "releases/deployments/mail/fix_deployed"


def delivered_bugs(deployment: Any, previous: Version | None) -> list[Bug]:
    """Bugs whose fix this deployment brought to its environment, by key order."""
    releases = installbase.between(
        deployment.environment.product_id, previous, deployment.release.version
    )
    seen: dict[int, Bug] = {}
    for bugs in installbase.bugs_fixed_by(releases).values():
        for bug in bugs:
            seen.setdefault(bug.pk, bug)
    new_version_id = deployment.release.version_id
    return [
        bug
        for bug in sorted(seen.values(), key=lambda b: b.pk)
        if new_version_id not in installbase.affected_version_ids(bug)
    ]


def _answers(ticket: Ticket, environment: Any) -> bool:
    """Whether the fix reaching `environment` answers the ticket: it names this environment,
    or none (an incident on another environment waits for its own deployment)."""
    return ticket.affected_ci_id in (None, environment.pk)


def _note(bugs: list[Bug], environment: Any, version: Version) -> str:
    named = ", ".join(f"{b.key} ({b.title})" for b in bugs)
    fix = "The fix" if len(bugs) == 1 else "The fixes"
    return f"{fix} for {named} reached {environment.name} in version {version.name}."


def fix_deployed(deployment: Any, previous: Version | None) -> int:
    """Tell the organization of a succeeded deployment which of its bugs are fixed now; note
    (and resolve) the linked open tickets. Returns how many messages were queued."""
    environment = deployment.environment
    organization = deployment.organization
    version = deployment.release.version
    bugs = delivered_bugs(deployment, previous)
    if not bugs:
        return 0
    by_id = {b.pk: b for b in bugs}
    links = list(
        BugTicket.objects.filter(bug_id__in=by_id, ticket__organization_id=organization.pk)
        .select_related("ticket__requester", "ticket__organization", "ticket__affected_ci")
        .order_by("ticket_id", "bug_id")
    )
    ours = {link.bug_id for link in links}
    ours |= {b.pk for b in bugs if b.environment_id == environment.pk}
    if not ours:
        return 0
    org_bugs = [by_id[pk] for pk in sorted(ours)]

    # Tickets to note and their requesters' own bugs.
    tickets: dict[int, Ticket] = {}
    ticket_bugs: dict[int, list[Bug]] = defaultdict(list)
    personal: dict[Any, set[int]] = defaultdict(set)
    for link in links:
        ticket = link.ticket
        if ticket.status not in OPEN_STATUSES or not _answers(ticket, environment):
            continue
        tickets[ticket.pk] = ticket
        ticket_bugs[ticket.pk].append(by_id[link.bug_id])
        requester = ticket.requester
        if requester is not None and requester.organization_id == organization.pk:
            personal[requester].add(link.bug_id)

    recipients: dict[int, tuple[Any, set[int]]] = {}
    for contact in preferences.organization_contacts(organization):
        recipients[contact.pk] = (contact, set(ours))
    for person, bug_ids in personal.items():
        if person.pk in recipients:
            recipients[person.pk][1].update(bug_ids)
        else:
            recipients[person.pk] = (person, set(bug_ids))

    queued = 0
    for user, bug_ids in recipients.values():
        if not user.is_active:
            continue
        queued += mailing.email(
            [user],
            TEMPLATE,
            {
                "bugs": [by_id[pk] for pk in sorted(bug_ids)],
                "environment": environment,
                "organization": organization,
                "version": version,
                "release": deployment.release,
                "deployment": deployment,
            },
            dedupe_key=f"fix-notice:{deployment.pk}:{user.pk}",
            headers={"X-Sustain-Deployment": str(deployment.pk)},
            event=Moment.FIX_DEPLOYED,
        )

    _answer_tickets(list(tickets.values()), ticket_bugs, environment, version)
    events.record(
        deployment,
        "customers_told",
        after={
            "bugs": [b.key for b in org_bugs],
            "messages": queued,
            "tickets": [t.key for t in tickets.values()],
        },
        organization_id=organization.pk,
    )
    return queued


def _answer_tickets(
    tickets: list[Ticket], ticket_bugs: dict[int, list[Bug]], environment: Any, version: Version
) -> None:
    """A public note on each ticket, and resolved by setting; the fix notice is their mail."""
    if not tickets:
        return
    from sustain.accounts.actions import system_actor
    from sustain.desk import actions as desk

    actor = system_actor()
    resolve = getattr(settings, "RESOLVE_INCIDENTS_ON_FIX", True)
    for ticket in tickets:
        note = _note(ticket_bugs[ticket.pk], environment, version)
        if resolve:
            # The reason becomes the public note on the timeline.
            desk.transition(actor, ticket, Status.RESOLVED, reason=note, quiet=True)
        else:
            desk.add_comment(actor, ticket, note, is_public=True, quiet=True)
