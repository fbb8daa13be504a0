"""Machine tokens: made, shown once, looked up by digest, revoked; and the API's check of them.

A machine token (`sum_…`) is not a person's token: it carries no user, only the organization
(and optionally the source or configuration item) whose data it may send, so a leaked exporter
secret can write that organization's alerts and nothing else, and read nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from sustain.accounts.models import Organization, User
from sustain.cmdb.models import ConfigItem
from sustain.core import tenancy
from sustain.core.errors import Forbidden, Invalid, NotFound
from sustain.monitoring.models import MachineToken, Source

PREFIX = "sum_"
NAME_MAX = 100
LAST_USED_GRANULARITY = timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_machine_token(
    actor: User,
    organization: Organization,
    *,
    name: str,
    source: Source | None = None,
    config_item: ConfigItem | None = None,
) -> tuple[MachineToken, str]:
    """A new token for `organization`; returns it and the raw secret, shown this once."""
    if not actor.is_agent:
        raise Forbidden("Only staff may create machine tokens.")
    if not tenancy.can_see_organization(actor, organization.pk):
        raise Forbidden("You may not make tokens for this organization.")
    name = (name or "").strip()
    if not name:
        raise Invalid("Give the token a name.", field="name")
    if len(name) > NAME_MAX:
        raise Invalid(f"name is longer than {NAME_MAX} characters.", field="name")
    if source is not None and source.organization_id != organization.pk:
        raise Invalid("The source belongs to another organization.", field="source")
    if config_item is not None and config_item.organization_id != organization.pk:
        raise Invalid(
            "The configuration item belongs to another organization.", field="config_item"
        )
    raw = PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = MachineToken.objects.create(
            organization=organization,
            name=name,
            source=source,
            config_item=config_item,
            prefix=raw[:10],
            digest=digest(raw),
            created_by=actor,
        )
    return token, raw


def revoke_machine_token(actor: User, token: MachineToken) -> MachineToken:
    if not actor.is_agent or not tenancy.can_see_organization(actor, token.organization_id):
        raise Forbidden("Only staff serving this organization may revoke its tokens.")
    if token.revoked_at is not None:
        raise Invalid("This token is already revoked.")
    MachineToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token.refresh_from_db()
    return token


def machine_token(raw: str) -> MachineToken | None:
    """The usable token for `raw`, with its organization, source and item; None otherwise."""
    if not raw.startswith(PREFIX):
        return None
    token = (
        MachineToken.objects.select_related("organization", "source", "config_item")
        .filter(digest=digest(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        MachineToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def require_token(raw: str) -> MachineToken:
    token = machine_token(raw)
    if token is None:
        raise NotFound("Unknown or revoked machine token.")
    return token


class MachineTokenAuth(HttpBearer):
    """`Authorization: Bearer sum_…` (Alertmanager's `http_config.authorization`), or the
    password of HTTP basic auth (`basic_auth`, any user name), for senders that only do that."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            return self.authenticate(request, decoded.partition(":")[2])
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = machine_token(token.strip())
        if found is None:
            return None
        request.machine_token = found  # type: ignore[attr-defined]
        return found
