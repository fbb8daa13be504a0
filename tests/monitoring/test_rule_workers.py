"""Several workers running the rules' cycle at the same instant evaluate each due rule once,
and a firing series opens one incident: the conditional UPDATE that takes the lease lets one
worker have each rule (real threads, on SQLite and on PostgreSQL)."""

from __future__ import annotations

from django.utils import timezone

from sustain.accounts.models import Organization, Role, User
from sustain.desk.models import Channel, Ticket
from sustain.monitoring import rule_eval, rules
from sustain.monitoring.models import Alert, AlertEvent, Sample, Series, ThresholdRule
from sustain.monitoring.series import series_key
from tests.concurrency import RaceTestCase

THREADS = 6
RULES = 30


class ConcurrentRuleWorkerTests(RaceTestCase):
    def setUp(self):
        super().setUp()
        provider = Organization.objects.create(name="Provider", slug="provider", is_provider=True)
        acme = Organization.objects.create(name="Acme", slug="acme")
        manager = User.objects.create_user(
            "mia@provider.test", None, name="Mia", organization=provider, role=Role.MANAGER
        )
        self.now = timezone.now()
        end = int(self.now.timestamp() * 1000)
        for i in range(RULES):
            labels = {"host": f"web{i}"}
            series = Series.objects.create(
                organization=acme,
                name="cpu",
                labels=labels,
                key=series_key(None, "cpu", labels),
                kind="gauge",
                last_sample_at=self.now,
            )
            Sample.objects.create(series=series, time=end - 10_000, value=99)
            rules.create_rule(
                manager,
                acme,
                name=f"cpu {i}",
                metric="cpu",
                matchers=[{"label": "host", "op": "=", "value": f"web{i}"}],
                critical=90,
                window_seconds=60,
                now=self.now,
            )

    def test_each_due_rule_is_evaluated_once_whatever_the_number_of_workers(self):
        counts = self.at_once(lambda i: rule_eval.run_cycle(now=self.now), threads=THREADS)
        self.assertTrue(all(isinstance(c, int) for c in counts), counts)
        self.assertEqual(sum(counts), RULES)
        self.assertEqual(Alert.objects.filter(state=Alert.State.FIRING).count(), RULES)
        self.assertEqual(Alert.objects.filter(received=1).count(), RULES)  # told once each
        self.assertEqual(AlertEvent.objects.count(), RULES)
        self.assertEqual(Ticket.objects.filter(channel=Channel.MONITORING).count(), RULES)
        self.assertFalse(ThresholdRule.objects.exclude(lease="").exists())
