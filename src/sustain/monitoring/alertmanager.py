"""Prometheus Alertmanager's webhook (payload version 4) read into signals.

The format is Alertmanager's, not ours: unknown fields are ignored, as its receivers are
expected to do. What we rely on is checked whole before anything is written: a bad alert
refuses the delivery with a 4xx naming `alerts[i].field` (Alertmanager does not retry a 4xx,
so a payload we cannot read is not sent again and again). A delivery is bounded: at most
MAX_BODY bytes and MAX_ALERTS alerts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sustain.cmdb.models import ConfigItem
from sustain.core.errors import ActionError, Invalid
from sustain.core.ids import as_id
from sustain.monitoring.alerts import Signal, fingerprint_of
from sustain.monitoring.models import Alert

MAX_BODY = 1024 * 1024
MAX_ALERTS = 1000
MAX_LABELS = 100
LABEL_VALUE_MAX = 4000
FINGERPRINT_MAX = 128
# Labels that name the configuration item an alert is about (its name or its id).
ITEM_LABELS = ("config_item", "sustain_config_item", "ci")
# Alertmanager writes this for "no end yet".
ZERO_TIME = "0001-01-01T00:00:00Z"


class TooLarge(ActionError):
    status = 413


class Malformed(ActionError):
    status = 400


def parse(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY:
        raise TooLarge(f"The body is larger than {MAX_BODY} bytes.")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Malformed("The body is not JSON.", field="body") from None
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", field="body")
    version = data.get("version")
    if version is not None and str(version) != "4":
        raise Invalid(f"Payload version {version} is not supported (4 is).", field="version")
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        raise Invalid("alerts must be a list.", field="alerts")
    if len(alerts) > MAX_ALERTS:
        raise TooLarge(f"More than {MAX_ALERTS} alerts in one delivery.", field="alerts")
    return data


def signals(data: dict[str, Any], items: dict[str, ConfigItem]) -> list[Signal]:
    """One signal per alert of a parsed payload; `items` are the organization's configuration
    items by name and by id (as text), for the alerts that name theirs in a label."""
    common = _strings(data.get("commonLabels") or {}, "commonLabels")
    return [_signal(i, alert, common, items) for i, alert in enumerate(data["alerts"])]


def item_names(data: dict[str, Any]) -> set[str]:
    """The configuration item names or ids the alerts' labels mention."""
    names: set[str] = set()
    for alert in data["alerts"]:
        labels = alert.get("labels") if isinstance(alert, dict) else None
        if isinstance(labels, dict):
            names.update(str(labels[k]) for k in ITEM_LABELS if isinstance(labels.get(k), str))
    return names


def items_named(organization_id: int, names: set[str]) -> dict[str, ConfigItem]:
    if not names:
        return {}
    ids = [n for n in (as_id(name) for name in names) if n]
    found = ConfigItem.objects.filter(organization_id=organization_id)
    by_name = {ci.name: ci for ci in found.filter(name__in=names)}
    by_id = {str(ci.pk): ci for ci in found.filter(pk__in=ids)} if ids else {}
    return {**by_id, **by_name}


def _signal(i: int, alert: Any, common: dict[str, str], items: dict[str, ConfigItem]) -> Signal:
    where = f"alerts[{i}]"
    if not isinstance(alert, dict):
        raise Invalid(f"{where} must be an object.", field=where)
    status = alert.get("status")
    if status not in Alert.State.values:
        raise Invalid(f"{where}.status must be firing or resolved.", field=f"{where}.status")
    labels = _strings(alert.get("labels") or {}, f"{where}.labels")
    if not labels:
        raise Invalid(f"{where}.labels is empty.", field=f"{where}.labels")
    annotations = _strings(alert.get("annotations") or {}, f"{where}.annotations")
    starts_at = _instant(alert.get("startsAt"), f"{where}.startsAt")
    if starts_at is None:
        raise Invalid(f"{where}.startsAt is missing.", field=f"{where}.startsAt")
    fingerprint = alert.get("fingerprint") or fingerprint_of(labels)
    if not isinstance(fingerprint, str) or len(fingerprint) > FINGERPRINT_MAX:
        raise Invalid(f"{where}.fingerprint is not a short text.", field=f"{where}.fingerprint")
    url = alert.get("generatorURL") or ""
    item = next((items[labels[k]] for k in ITEM_LABELS if labels.get(k) in items), None)
    return Signal(
        fingerprint=fingerprint,
        state=status,
        name=labels.get("alertname") or common.get("alertname") or "alert",
        starts_at=starts_at,
        ends_at=_instant(alert.get("endsAt"), f"{where}.endsAt"),
        severity=labels.get("severity", ""),
        labels=labels,
        annotations=annotations,
        generator_url=url[:2000] if isinstance(url, str) else "",
        config_item=item,
    )


def _strings(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise Invalid(f"{where} must be an object of texts.", field=where)
    if len(value) > MAX_LABELS:
        raise Invalid(f"{where} has more than {MAX_LABELS} entries.", field=where)
    for key, text in value.items():
        if not isinstance(text, str) or len(text) > LABEL_VALUE_MAX or len(key) > 200:
            raise Invalid(
                f"{where}.{key[:40]} must be a text of at most {LABEL_VALUE_MAX}.", field=where
            )
    return dict(value)


def _instant(value: Any, where: str) -> datetime | None:
    if value in (None, "", ZERO_TIME):
        return None
    if not isinstance(value, str):
        raise Invalid(f"{where} must be an RFC 3339 time.", field=where)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{where} must be an RFC 3339 time.", field=where) from None
    if parsed.tzinfo is None:
        raise Invalid(f"{where} needs its offset (Z or ±hh:mm).", field=where)
    if parsed.year < 1970:
        return None
    return parsed.astimezone(UTC)
