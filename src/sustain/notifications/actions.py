"""Changing what one is told, and the addresses copied on a ticket's mail."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from sustain.accounts.models import User
from sustain.core import events, languages, tenancy, timezones
from sustain.core.errors import Forbidden, Invalid, refuse_unknown
from sustain.core.locking import locked_all
from sustain.notifications.models import CarbonCopy, DeliveryMode, Moment, Preferences

PREFERENCE_FIELDS = (*Moment.values, "digest_hour", "organization_contact")
USER_FIELDS = ("language", "time_zone")


def preferences_of(user: User) -> Preferences:
    """The user's preferences (unsaved defaults when they never changed any)."""
    found = Preferences.objects.filter(user=user).first()
    return found or Preferences(user=user)


def _check(user: User, changes: dict[str, Any]) -> dict[str, Any]:
    refuse_unknown(changes, (*PREFERENCE_FIELDS, *USER_FIELDS))
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        check = _delivery_mode if name in Moment.values else _CHECKS[name]
        checked[name] = check(user, name, value)
    return checked


def _delivery_mode(user: User, name: str, value: Any) -> Any:
    if value not in DeliveryMode.values:
        raise Invalid(f"{name} must be one of {', '.join(DeliveryMode.values)}.", field=name)
    return value


def _digest_hour(user: User, name: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
        raise Invalid("digest_hour must be a whole hour from 0 to 23.", field=name)
    return value


def _organization_contact(user: User, name: str, value: Any) -> Any:
    if not isinstance(value, bool):
        raise Invalid("organization_contact must be true or false.", field=name)
    if value and user.is_customer and not user.organization.customers_see_all_tickets:
        raise Invalid(
            f"{user.organization.name} lets customers see only their own tickets.", field=name
        )
    return value


def _language(user: User, name: str, value: Any) -> str:
    value = (value or "").strip()
    if value and not languages.is_offered(value):  # only those we have a translation for
        raise Invalid(
            f"Sustain has no translation into '{value}': choose one of "
            f"{', '.join(code for code, _ in languages.offered())}.",
            field=name,
        )
    return str(value)


def _time_zone(user: User, name: str, value: Any) -> str:
    value = (value or "").strip()
    if value and not timezones.is_known(value):  # not "localtime" (the host's)
        raise Invalid(f"Unknown time zone '{value}'.", field=name)
    return str(value)


_CHECKS: dict[str, Callable[[User, str, Any], Any]] = {
    "digest_hour": _digest_hour,
    "organization_contact": _organization_contact,
    "language": _language,
    "time_zone": _time_zone,
}


def _snapshot(user: User, prefs: Preferences) -> dict[str, Any]:
    return {
        **{name: getattr(prefs, name) for name in PREFERENCE_FIELDS},
        **{name: getattr(user, name) for name in USER_FIELDS},
    }


def update_preferences(actor: User, user: User, **changes: Any) -> Preferences:
    """Set how `user` is told of each event (at once, in the digest, off), the digest's hour,
    whether a customer hears of all the organization's tickets, and the language and time
    zone of the mail. People change their own; administrators anyone's."""
    if actor.pk != user.pk and not actor.is_admin:
        raise Forbidden("You may change only your own notifications.")
    checked = _check(user, changes)
    with transaction.atomic():
        prefs = next(iter(locked_all(Preferences.objects.filter(user=user))), None)
        prefs = prefs or Preferences(user=user)
        before = _snapshot(user, prefs)
        for name, value in checked.items():
            setattr(prefs if name in PREFERENCE_FIELDS else user, name, value)
        after = _snapshot(user, prefs)
        old, new = events.changes(before, after)
        if not new:
            return prefs
        if any(name in PREFERENCE_FIELDS for name in new):
            prefs.updated_at = timezone.now()
            prefs.save()
        if any(name in USER_FIELDS for name in new):
            user.save(update_fields=[n for n in USER_FIELDS if n in new])
        events.record(
            user, "notifications_changed", actor=actor, before=old, after=new, is_public=False
        )
    return prefs


def add_cc(actor: User, ticket: Any, addresses: Iterable[str]) -> list[str]:
    """Copy addresses on the ticket's customer mail (a mail's Cc, or an agent's choice).
    An address of a user who may not see the ticket's organization is refused."""
    from sustain.desk.actions import check_can_read

    check_can_read(actor, ticket)
    cleaned = []
    for address in addresses:
        address = (address or "").strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise Invalid(f"'{address}' is not an e-mail address.", field="cc") from None
        cleaned.append(address)
    known = {u.email.lower(): u for u in User.objects.filter(email__in=cleaned)}
    for address in cleaned:
        user = known.get(address)
        if user is not None and not tenancy.can_see_organization(user, ticket.organization_id):
            raise Invalid(f"{address} may not see this ticket.", field="cc")
    added = []
    with transaction.atomic():
        for address in dict.fromkeys(cleaned):
            try:
                with transaction.atomic():
                    CarbonCopy.objects.create(ticket=ticket, email=address)
            except IntegrityError:
                continue
            added.append(address)
        if added:
            events.record(ticket, "cc_added", actor=actor, after={"cc": added}, is_public=False)
    return added
