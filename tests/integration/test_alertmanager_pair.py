"""The whole monitoring loop with the real peers: a real Prometheus scrapes Sustain's `/metrics`
(served by `sustain run`, gunicorn, on the test's database), evaluates a rule on one of
Sustain's own gauges (a P1 ticket is open), and sends the alert to two real Alertmanagers
clustered as an HA pair, whose webhook receivers post to `/api/v1/hooks/alertmanager` with a
machine token. One incident opens, the pair's repeated and simultaneous deliveries keep it one,
and it resolves when the P1 ticket is resolved and the rule's condition turns false.

Everything listens on 127.0.0.1 on free ports, with its files in a temporary folder, and is
stopped at the end. Timings are small (1 s scrapes and evaluations, group_wait 1 s,
group_interval and repeat_interval 2 s), so the test takes about half a minute.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import unittest
from pathlib import Path

import pytest
from django.db import connection

from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, Role, User
from sustain.desk import actions as desk
from sustain.desk.models import Channel, Priority, Status, Ticket
from sustain.monitoring import actions as monitoring
from sustain.monitoring.models import Alert, Source
from tests.concurrency import RaceTestCase
from tests.integration import peers

PASSWORD = "correct-horse-battery-staple"
WEBHOOK = re.compile(r"^alertmanager_notifications(_failed)?_total\{(.*)\} (\S+)$", re.M)

RULES = """groups:
  - name: sustain
    rules:
      - alert: UrgentTicketOpen
        expr: sustain_open_tickets{priority="P1"} > 0
        labels:
          severity: warning
        annotations:
          summary: A P1 ticket is open
"""

PROMETHEUS = """global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:{am1}", "127.0.0.1:{am2}"]
scrape_configs:
  - job_name: sustain
    metrics_path: /metrics
    authorization:
      credentials: {token}
    static_configs:
      - targets: ["127.0.0.1:{sustain}"]
"""

ALERTMANAGER = """route:
  receiver: sustain
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 2s
receivers:
  - name: sustain
    webhook_configs:
      - url: http://127.0.0.1:{sustain}/api/v1/hooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: {token}
"""


@pytest.mark.peers
@unittest.skipIf(
    peers.missing(),
    f"NOT RUN: {' and '.join(peers.missing())} not installed "
    "(apt-get install prometheus prometheus-alertmanager; CI installs them)",
)
class AlertmanagerPairTests(RaceTestCase):
    file_name = "sustain.sqlite3"  # the copy is the database `sustain run` opens in its folder

    def setUp(self):
        super().setUp()
        provider = Organization.objects.create(name="Northwind", slug="northwind", is_provider=True)
        self.root = User.objects.create_superuser(
            "root@northwind.test", PASSWORD, organization=provider
        )
        self.acme = accounts.create_organization(self.root, name="Acme", slug="acme")
        self.alice = accounts.create_user(
            self.root,
            email="alice@northwind.test",
            name="Alice Agent",
            organization=provider,
            role=Role.AGENT,
            password=PASSWORD,
        )
        mia = accounts.create_user(
            self.root,
            email="mia@northwind.test",
            name="Mia Manager",
            organization=provider,
            role=Role.MANAGER,
            password=PASSWORD,
        )
        self.machine_token = monitoring.create_machine_token(mia, self.acme, name="am pair")[1]

    def start_peers(self) -> dict[str, str]:
        """Sustain, two clustered Alertmanagers and Prometheus, ready; their base URLs."""
        path = self.use_file_copy()
        folder = Path(path).parent if path else Path(tempfile.mkdtemp(prefix="sustain-peers-"))
        if path is None:
            self.addCleanup(shutil.rmtree, folder, ignore_errors=True)
        ports = {name: peers.free_port() for name in ("sustain", "am1", "am2", "c1", "c2", "prom")}
        urls = {
            name: f"http://127.0.0.1:{ports[name]}" for name in ("sustain", "am1", "am2", "prom")
        }

        def start(peer: peers.Peer) -> peers.Peer:
            self.addCleanup(peer.stop)  # cleanups run last first: the peers stop before the
            return peer  # database goes back to memory

        server = start(peers.sustain(folder, ports["sustain"], dict(connection.settings_dict)))
        config = ALERTMANAGER.format(sustain=ports["sustain"], token=self.machine_token)
        (folder / "alertmanager.yml").write_text(config)
        pair = []
        for me, other in (("1", "2"), ("2", "1")):
            pair.append(
                start(
                    peers.Peer(
                        f"alertmanager{me}",
                        [
                            peers.ALERTMANAGER,
                            "--config.file=alertmanager.yml",
                            f"--storage.path=am{me}",
                            f"--web.listen-address=127.0.0.1:{ports['am' + me]}",
                            f"--cluster.listen-address=127.0.0.1:{ports['c' + me]}",
                            f"--cluster.peer=127.0.0.1:{ports['c' + other]}",
                            # The pair's de-duplication through its gossiped notification log is
                            # best effort: a peer that has not heard of its partner's delivery
                            # sends the group too. Without waiting for the partner, both send
                            # every flush, so their deliveries meet at Sustain at the same time.
                            "--cluster.peer-timeout=0s",
                            "--cluster.reconnect-interval=1s",
                        ],
                        folder,
                    )
                )
            )
        (folder / "rules.yml").write_text(RULES)
        (folder / "prometheus.yml").write_text(
            PROMETHEUS.replace("{am1}", str(ports["am1"]))
            .replace("{am2}", str(ports["am2"]))
            .replace("{sustain}", str(ports["sustain"]))
            .replace("{token}", self.machine_token)
        )
        prometheus = start(
            peers.Peer(
                "prometheus",
                [
                    peers.PROMETHEUS,
                    "--config.file=prometheus.yml",
                    "--storage.tsdb.path=tsdb",
                    f"--web.listen-address=127.0.0.1:{ports['prom']}",
                    "--rules.alert.resend-delay=1s",
                ],
                folder,
            )
        )
        for peer, name in ((pair[0], "am1"), (pair[1], "am2"), (prometheus, "prom")):
            peer.wait_ready(urls[name] + "/-/ready")
        server.wait_ready(urls["sustain"] + "/healthz", timeout=90)
        for name in ("am1", "am2"):
            peers.wait_for(
                f"{name} to see both members of the cluster",
                lambda name=name: (
                    len(peers.get_json(urls[name] + "/api/v2/status")["cluster"]["peers"]) == 2
                ),
                timeout=20,
            )
        self.peers = {"sustain": server, "alertmanager1": pair[0], "alertmanager2": pair[1]}
        self.peers["prometheus"] = prometheus
        return urls

    def deliveries(self, url: str) -> int:
        """Webhook notifications an Alertmanager has delivered (its own counters: sent less
        failed)."""
        status, body = peers.get(url + "/metrics")
        assert status == 200, status
        delivered = 0.0
        for failed, labels, value in WEBHOOK.findall(body.decode()):
            if 'integration="webhook"' in labels:
                delivered += -float(value) if failed else float(value)
        return int(delivered)

    def both_delivered(self, urls: dict[str, str], at_least: int) -> list[int] | None:
        counts = [self.deliveries(urls["am1"]), self.deliveries(urls["am2"])]
        return counts if min(counts) >= at_least else None

    def alert(self) -> Alert | None:
        return Alert.objects.filter(source__kind=Source.Kind.ALERTMANAGER).first()

    def test_a_prometheus_alert_through_an_ha_pair_is_one_incident_that_resolves(self):
        started = time.monotonic()
        urls = self.start_peers()
        query = urls["prom"] + '/api/v1/query?query=up{job="sustain"}'
        peers.wait_for(
            "Prometheus to scrape Sustain's /metrics",
            lambda: [r["value"][1] for r in peers.get_json(query)["data"]["result"]] == ["1"],
            timeout=15,
        )
        urgent = desk.open_ticket(
            self.alice, title="Ledger is down", organization=self.acme, impact=1, urgency=1
        )
        self.assertEqual(urgent.priority, Priority.P1)

        alert = peers.wait_for("the alert to reach Sustain", self.alert, timeout=30)
        incident = peers.wait_for(
            "its incident", lambda: Ticket.objects.filter(channel=Channel.MONITORING).first(), 10
        )
        self.assertEqual(alert.name, "UrgentTicketOpen")
        self.assertEqual(alert.labels["job"], "sustain")  # scraped, evaluated and routed
        self.assertEqual(incident.organization, self.acme)
        self.assertNotEqual(incident.priority, Priority.P1)  # else it would keep itself firing
        self.assertIn("A P1 ticket is open", incident.title)

        # Both Alertmanagers deliver, at each flush (group_interval) again.
        both = peers.wait_for(
            "deliveries from both Alertmanagers, repeated",
            lambda: self.both_delivered(urls, at_least=2),
            timeout=30,
        )
        # Alertmanager counts a notification as it starts sending it: each one lands, counted.
        peers.wait_for(
            f"Sustain to count the {sum(both)} deliveries",
            lambda: Alert.objects.filter(pk=alert.pk, received__gte=sum(both)).exists(),
            timeout=10,
        )
        alert.refresh_from_db()
        self.assertEqual(alert.state, Alert.State.FIRING)
        self.assertEqual(alert.ticket_id, incident.pk)
        self.assertEqual(Alert.objects.count(), 1)
        self.assertEqual(Ticket.objects.filter(channel=Channel.MONITORING).count(), 1)

        # The P1 is resolved: the rule turns false, Prometheus resolves the alert, the pair
        # sends it resolved, and the incident resolves itself.
        desk.transition(self.alice, urgent, Status.RESOLVED)
        peers.wait_for(
            "the incident to resolve",
            lambda: Ticket.objects.filter(pk=incident.pk, status=Status.RESOLVED).exists(),
            timeout=30,
        )
        alert.refresh_from_db()
        self.assertEqual(alert.state, Alert.State.RESOLVED)
        self.assertGreater(alert.received, sum(both))
        self.assertEqual(Ticket.objects.filter(channel=Channel.MONITORING).count(), 1)
        for name, peer in self.peers.items():
            self.assertTrue(peer.alive(), f"{name} died:\n{peer.log()}")
        self.assertLess(time.monotonic() - started, 90)
