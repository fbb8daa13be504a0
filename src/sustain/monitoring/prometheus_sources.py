"""Prometheus servers as rules' data sources: set-up (create, change, delete) and the "test
connection" that asks `vector(1)`, each checked whole before anything is written. Managers
(and administrators) of the organization only; the secrets are sealed at rest by their
fields and never shown back.

The base URL is checked for its form by the outbound guard here; whether its address may be
reached is the guard's question at each request (SUSTAIN_OUTBOUND_ALLOW_NETWORKS lets an
administrator allow an internal Prometheus on purpose).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from sustain.accounts.models import Organization, User
from sustain.core import events, outbound, tenancy
from sustain.core.errors import Conflict, Forbidden, Invalid, refuse_unknown
from sustain.core.locking import locked_all
from sustain.monitoring import prometheus_api
from sustain.monitoring.models import PrometheusSource

NAME_MAX, URL_MAX, TOKEN_MAX, USER_MAX, PASSWORD_MAX = 200, 500, 2000, 200, 500
TIMEOUT_MIN, TIMEOUT_MAX = 1, 30
SETTINGS = ("name", "base_url", "bearer_token", "username", "password", "timeout_seconds")
DEFAULTS: dict[str, Any] = {
    "bearer_token": "",
    "username": "",
    "password": "",
    "timeout_seconds": 10,
}


def _check(actor: User, organization: Organization) -> None:
    if not (actor.is_manager or actor.is_admin):
        raise Forbidden("Only managers and administrators may change monitoring.")
    if not tenancy.can_see_organization(actor, organization.pk):
        raise Forbidden("You may not manage this organization's monitoring.")


def _printable(field: str, value: Any, most: int) -> str:
    """Text that goes into a header: no control character (no header of one's own)."""
    if not isinstance(value, str) or len(value) > most:
        raise Invalid(f"{field} must be text of at most {most} characters.", field=field)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise Invalid(f"{field} may not hold control characters.", field=field)
    return value


def check_url(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value.strip()) <= URL_MAX:
        raise Invalid(f"base_url must be a URL of at most {URL_MAX} characters.", field="base_url")
    url = value.strip().rstrip("/")
    try:
        target = outbound.parse(url)
    except outbound.OutboundError as exc:
        raise Invalid(f"base_url is not allowed: {exc}.", field="base_url") from None
    if "?" in target.path or "#" in url:
        raise Invalid("base_url takes no query or fragment.", field="base_url")
    return url


def checked(values: dict[str, Any]) -> dict[str, Any]:
    v = dict(values)
    name = values.get("name")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= NAME_MAX:
        raise Invalid(f"name must be text of 1 to {NAME_MAX} characters.", field="name")
    v["name"] = name.strip()
    v["base_url"] = check_url(values.get("base_url"))
    v["bearer_token"] = _printable("bearer_token", values.get("bearer_token"), TOKEN_MAX)
    v["username"] = _printable("username", values.get("username"), USER_MAX)
    v["password"] = _printable("password", values.get("password"), PASSWORD_MAX)
    if ":" in v["username"]:
        raise Invalid("username may not hold a colon (basic authentication).", field="username")
    if v["bearer_token"] and v["username"]:
        raise Invalid(
            "Give a bearer token or a user name and password, not both.", field="username"
        )
    if v["password"] and not v["username"]:
        raise Invalid("A password needs a username.", field="username")
    timeout = values.get("timeout_seconds")
    if isinstance(timeout, bool) or not isinstance(timeout, int):
        timeout = -1
    if not TIMEOUT_MIN <= timeout <= TIMEOUT_MAX:
        raise Invalid(
            f"timeout_seconds must be a whole number from {TIMEOUT_MIN} to {TIMEOUT_MAX}.",
            field="timeout_seconds",
        )
    return v


def create_source(actor: User, organization: Organization, **settings: Any) -> PrometheusSource:
    _check(actor, organization)
    refuse_unknown(settings, SETTINGS, "Unknown Prometheus source field: {names}.")
    values = checked({**DEFAULTS, **settings})
    try:
        with transaction.atomic():
            source = PrometheusSource.objects.create(organization=organization, **values)
            events.record(source, "created", actor=actor, after={"name": source.name})
    except IntegrityError:
        raise Conflict(
            f"{organization.name} already has a Prometheus source named {values['name']}.",
            field="name",
        ) from None
    return source


def update_source(
    actor: User, source: PrometheusSource, changes: dict[str, Any]
) -> PrometheusSource:
    """Change its settings; the rules over it ask the new server from their next cycle."""
    _check(actor, source.organization)
    refuse_unknown(changes, SETTINGS, "Unknown Prometheus source field: {names}.")
    fresh = PrometheusSource.objects.get(pk=source.pk)
    values = checked({**{k: getattr(fresh, k) for k in SETTINGS}, **changes})
    try:
        with transaction.atomic():
            (source,) = locked_all(PrometheusSource.objects.filter(pk=source.pk))
            for key in changes:
                setattr(source, key, values[key])
            source.save()
            # what changed, never the secrets' values
            events.record(source, "updated", actor=actor, after={"changed": sorted(changes)})
    except IntegrityError:
        raise Conflict(
            f"A Prometheus source named {values['name']} exists already.", field="name"
        ) from None
    return source


def delete_source(actor: User, source: PrometheusSource) -> None:
    """Refused while rules read from it (they would have nothing to ask)."""
    _check(actor, source.organization)
    with transaction.atomic():
        (source,) = locked_all(PrometheusSource.objects.filter(pk=source.pk))
        used = list(source.rules.order_by("name").values_list("name", flat=True)[:4])
        if used:
            raise Conflict(
                f"{source.name} is the data source of {', '.join(used[:3])}"
                + (" and more" if len(used) > 3 else "")
                + ": delete those rules or change them first."
            )
        events.record(source, "deleted", actor=actor, before={"name": source.name})
        source.delete()


def test_connection(
    actor: User, source: PrometheusSource, now: datetime | None = None
) -> prometheus_api.Answer:
    """Ask `vector(1)`; the outcome kept on the source (`checked_at`, `check_error`)."""
    _check(actor, source.organization)
    now = now or timezone.now()
    answer = prometheus_api.query(source, "vector(1)", now)
    if not answer.error and [v for _labels, v in answer.elements] != [1.0]:
        answer = prometheus_api.Answer(error="Prometheus answered vector(1) with something else.")
    PrometheusSource.objects.filter(pk=source.pk).update(checked_at=now, check_error=answer.error)
    source.checked_at, source.check_error = now, answer.error
    return answer
