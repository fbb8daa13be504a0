"""Who is told what about a bug. Called by the bug actions inside their transactions; the mail
leaves through the outbox once the change commits, routed by each person's preferences.

| moment          | e-mail to                                                        |
|-----------------|------------------------------------------------------------------|
| assigned        | the new assignee (not the one who assigned)                      |
| status changed  | the assignee and the reporter (not the one who changed it)       |
| regression      | the assignee, or the team lead when nobody is assigned           |
| triage overdue  | the team lead, or every manager when the bug has no team lead    |

Bugs are internal: only staff are mailed here. Customers hear about fixes when a release
carrying them reaches their environment (the deployments' notices).
"""

from __future__ import annotations

from typing import Any

from sustain.notifications import mailing
from sustain.notifications.models import Moment


def _staff(people: list[Any], exclude: Any = None) -> list[Any]:
    seen: dict[int, Any] = {}
    for person in people:
        if person is None or not person.is_active or not person.is_agent:
            continue
        if exclude is not None and person.pk == exclude.pk:
            continue
        seen.setdefault(person.pk, person)
    return list(seen.values())


def _mail(people: list[Any], template: str, bug: Any, key: str, moment: str, **extra: Any) -> int:
    return mailing.email(
        people,
        f"bugs/mail/{template}",
        {"bug": bug, **extra},
        dedupe_key=key,
        headers={"X-Sustain-Bug": bug.key},
        event=moment,
    )


def assigned(bug: Any, actor: Any, event: Any) -> None:
    if bug.assignee is not None:
        _mail(
            _staff([bug.assignee], exclude=actor),
            "assigned",
            bug,
            f"bug-assigned:{event.pk}",
            Moment.ASSIGNED,
        )


def status_changed(bug: Any, actor: Any, event: Any, old: str, new: str) -> None:
    _mail(
        _staff([bug.assignee, bug.reporter], exclude=actor),
        "status_changed",
        bug,
        f"bug-status:{event.pk}",
        Moment.STATUS_CHANGED,
        old=old,
        new=new,
    )


def regression(bug: Any, actor: Any, event: Any) -> None:
    lead = bug.team.lead if bug.team is not None else None
    people = [bug.assignee] if bug.assignee is not None else [lead]
    _mail(
        _staff(people),
        "regression",
        bug,
        f"bug-regression:{event.pk}",
        Moment.STATUS_CHANGED,
    )


def triage_overdue(bug: Any) -> None:
    from sustain.accounts.models import Role, User

    lead = bug.team.lead if bug.team is not None else None
    if lead is not None:
        people = [lead]
    else:
        people = list(User.objects.filter(role__in=(Role.MANAGER, Role.ADMIN), is_active=True))
    _mail(
        _staff(people),
        "triage_overdue",
        bug,
        f"bug-triage-overdue:{bug.pk}:{bug.triage_due_at.isoformat() if bug.triage_due_at else ''}",
        Moment.SLA_BREACHED,
    )
