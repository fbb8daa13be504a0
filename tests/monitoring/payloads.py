"""Alertmanager webhook payloads (version 4) as Alertmanager writes them."""

from __future__ import annotations

from typing import Any

ZERO = "0001-01-01T00:00:00Z"


def alert(
    name: str = "HighErrorRate",
    *,
    status: str = "firing",
    fingerprint: str | None = "a1b2c3d4e5f60718",
    starts_at: str = "2026-12-07T10:00:00.123456789Z",
    ends_at: str = ZERO,
    severity: str = "critical",
    **labels: str,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "status": status,
        "labels": {"alertname": name, "severity": severity, "job": "checkout", **labels},
        "annotations": {"summary": "5xx above 5 %", "description": "The checkout API fails."},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=rate",
    }
    if fingerprint is not None:
        found["fingerprint"] = fingerprint
    return found


def delivery(*alerts: dict[str, Any], receiver: str = "sustain") -> dict[str, Any]:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {"alertname": "HighErrorRate"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
        "somethingNew": {"added": "in a later Alertmanager"},
    }
