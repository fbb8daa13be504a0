"""Reading preferences where notifications are queued: one query per event, whoever is told."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from sustain.core.compiled import Prepared
from sustain.notifications.models import DeliveryMode, DigestItem, Moment, Preferences

if TYPE_CHECKING:
    from sustain.notifications.mailing import Rendered

IMMEDIATE, DIGEST, OFF = (
    DeliveryMode.IMMEDIATE.value,
    DeliveryMode.DIGEST.value,
    DeliveryMode.OFF.value,
)
EVENTS = tuple(Moment.values)


def deliveries(user_ids: list[int], event: str | None) -> dict[int, str]:
    """How each of `user_ids` wants `event`; people without a preference row are left out
    (they get it at once). Mail that is no event of the list (pages) always goes at once."""
    if event not in EVENTS or not user_ids:
        return {}
    rows = Preferences.objects.filter(user_id__in=user_ids).values_list("user_id", event)
    return dict(rows)


def add_to_digest(
    user: Any, event: str, ticket: Any, mail: Rendered, *, key: str, at: Any = None
) -> None:
    """Hold a notification for the user's next daily digest (once per key); `at`: when it
    happened (now, unless the worker renders it later)."""
    try:
        with transaction.atomic():
            DigestItem.objects.create(
                created_at=at or timezone.now(),
                user=user,
                event=event,
                ticket=ticket if getattr(ticket, "pk", None) else None,
                key=key[:200],
                subject=mail.subject[:300],
                body=mail.text,
            )
    except IntegrityError:
        pass  # already held for this event


def organization_contacts(organization: Any) -> list[Any]:
    """The customers of `organization` who asked to hear about all its tickets (and may see
    them all)."""
    if not organization.customers_see_all_tickets:
        return []
    return _CONTACTS.rows(organization_id=organization.pk)


def _contacts(organization_id: int) -> QuerySet[Any]:
    from sustain.accounts.models import Role, User

    return User.objects.filter(
        organization_id=organization_id,
        role=Role.CUSTOMER,
        is_active=True,
        notification_preferences__organization_contact=True,
    )


# Read before every new ticket: compiled once (core.compiled).
_CONTACTS = Prepared(_contacts, organization_id=-7_000_000_017)
