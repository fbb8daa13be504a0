"""The monitoring benchmarks' view of the database (run with the server's environment).

_monitoring_world.py setup N      a provider, a manager, a customer ("Bench customer"), a
                                  machine token for the customer and N heartbeats (period and
                                  grace one hour); prints {"token", "heartbeats": [uuid, ...]}
_monitoring_world.py alert FP     the Alertmanager alert with fingerprint FP: how many rows,
                                  the incidents they opened, its `received`
_monitoring_world.py incidents    monitoring incidents in all, and alerts without one
_monitoring_world.py pings        ping rows by kind, heartbeats by state, alerts by state
"""

from __future__ import annotations

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sustain.settings")
django.setup()

from django.db.models import Count  # noqa: E402

from sustain.accounts.models import Organization, Role, User  # noqa: E402
from sustain.desk.models import Channel, Ticket  # noqa: E402
from sustain.monitoring import actions, heartbeats  # noqa: E402
from sustain.monitoring.models import Alert, Heartbeat, Ping, Source  # noqa: E402


def setup(count: int) -> dict:
    provider, _ = Organization.objects.get_or_create(
        slug="bench-provider", defaults={"name": "Bench provider", "is_provider": True}
    )
    customer, _ = Organization.objects.get_or_create(
        slug="bench-customer", defaults={"name": "Bench customer"}
    )
    manager = User.objects.filter(email="mia@bench.localhost").first()
    if manager is None:
        manager = User.objects.create_user(
            "mia@bench.localhost", None, name="Mia", organization=provider, role=Role.MANAGER
        )
    _, raw = actions.create_machine_token(manager, customer, name="bench")
    beats = list(Heartbeat.objects.filter(organization=customer).values_list("uuid", flat=True))
    for n in range(len(beats), count):
        beat = heartbeats.create_heartbeat(
            manager, customer, name=f"nightly job {n}", period_seconds=3600, grace_seconds=3600
        )
        beats.append(beat.uuid)
    return {"token": raw, "heartbeats": [str(u) for u in beats[:count]]}


def alert(fingerprint: str) -> dict:
    rows = Alert.objects.filter(source__kind=Source.Kind.ALERTMANAGER, fingerprint=fingerprint)
    return {
        "alerts": rows.count(),
        "incidents": rows.exclude(ticket=None).values("ticket").distinct().count(),
        "received": sum(rows.values_list("received", flat=True)),
    }


def incidents() -> dict:
    return {
        "incidents": Ticket.objects.filter(channel=Channel.MONITORING).count(),
        "alerts": Alert.objects.count(),
        "alerts_without_incident": Alert.objects.filter(ticket=None).count(),
    }


def pings() -> dict:
    def by(query, key: str) -> dict:
        return dict(query.values_list(key).annotate(n=Count("id")).order_by())

    return {
        "pings": by(Ping.objects, "kind"),
        "heartbeats": by(Heartbeat.objects, "state"),
        "alerts": by(Alert.objects.filter(source__kind=Source.Kind.HEARTBEAT), "state"),
        "incidents": Ticket.objects.filter(channel=Channel.MONITORING).count(),
    }


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "setup":
        print(json.dumps(setup(int(sys.argv[2]))))
    elif command == "alert":
        print(json.dumps(alert(sys.argv[2])))
    elif command == "incidents":
        print(json.dumps(incidents()))
    else:
        print(json.dumps(pings()))
