"""REST endpoints for one's own notification preferences: /api/v1/me/notifications."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema
from pydantic import Field, ValidationInfo, field_validator

from sustain.core.api import Input
from sustain.core.http import ApiRequest
from sustain.notifications import actions
from sustain.notifications.models import DeliveryMode, DigestItem

router = Router(tags=["notifications"])

DELIVERY_HELP = "immediate (an e-mail at once), digest (in the daily digest) or off"


class PreferencesOut(Schema):
    ticket_created: DeliveryMode
    public_reply: DeliveryMode
    status_changed: DeliveryMode
    assigned: DeliveryMode
    sla_warning: DeliveryMode
    sla_breached: DeliveryMode
    escalation: DeliveryMode
    fix_deployed: DeliveryMode
    digest_hour: int = Field(description="Local hour (0–23) at which the daily digest is sent.")
    organization_contact: bool = Field(
        description="Customers: be told about every ticket of the organization, not only one's own."
    )
    language: str = Field(description="Language of the mail (a code such as en); empty: default.")
    time_zone: str = Field(description="Time zone the mail shows times in; empty: UTC.")
    digest_waiting: int = Field(description="Notifications held for the next digest.")


class PreferencesPatch(Input):
    """Only the fields sent change."""

    ticket_created: DeliveryMode | None = Field(None, description=DELIVERY_HELP)
    public_reply: DeliveryMode | None = Field(None, description=DELIVERY_HELP)
    status_changed: DeliveryMode | None = Field(None, description=DELIVERY_HELP)
    assigned: DeliveryMode | None = Field(None, description=DELIVERY_HELP)
    sla_warning: DeliveryMode | None = Field(None, description=DELIVERY_HELP)
    sla_breached: DeliveryMode | None = Field(None, description=DELIVERY_HELP)
    escalation: DeliveryMode | None = Field(None, description=DELIVERY_HELP)
    fix_deployed: DeliveryMode | None = Field(None, description=DELIVERY_HELP)
    digest_hour: int | None = Field(None, ge=0, le=23)
    organization_contact: bool | None = None
    language: str | None = Field(None, max_length=10)
    time_zone: str | None = Field(None, max_length=64)

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


def _out(request: ApiRequest) -> dict[str, Any]:
    user = request.auth
    prefs = actions.preferences_of(user)
    return {
        **{name: getattr(prefs, name) for name in actions.PREFERENCE_FIELDS},
        "language": user.language,
        "time_zone": user.time_zone,
        "digest_waiting": DigestItem.objects.filter(user=user, sent_at__isnull=True).count(),
    }


@router.get("/me/notifications", response=PreferencesOut)
def get_preferences(request: ApiRequest):
    """What you are told of, and how: each event at once, in the daily digest, or not at all."""
    return _out(request)


@router.patch("/me/notifications", response=PreferencesOut)
def update_preferences(request: ApiRequest, payload: PreferencesPatch):
    changes = payload.dict(exclude_unset=True)
    changes = {k: (v.value if isinstance(v, DeliveryMode) else v) for k, v in changes.items()}
    actions.update_preferences(request.auth, request.auth, **changes)
    return _out(request)
