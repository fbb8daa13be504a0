"""The threshold-rule and Prometheus-source pages: managers make and change rules through the
same actions as the API (the action's refusal shown beside its field), pause, resume and delete
them; the list shows each rule's worst state and firing count; the rule page says the rule in
words and each series' state with its alert and incident; customers read their own
organization's rules on the portal, never another's; sources keep their secrets unseen and
test their connection against a real HTTP server."""

from __future__ import annotations

import re
from datetime import timedelta

from django.test import Client, override_settings
from django.utils import timezone

from sustain.monitoring import prometheus_sources, rule_eval, rules
from sustain.monitoring.models import Alert, PrometheusSource, Sample, Series, ThresholdRule
from sustain.monitoring.series import series_key
from tests.base import SustainTestCase
from tests.monitoring.servers import Site

FORM = {
    "metric": "cpu",
    "matchers": "host=web1",
    "window_seconds": 300,
    "aggregation": "avg",
    "comparison": "above",
    "critical": 90,
    "critical_recovery": 70,
    "for_seconds": 0,
    "keep_firing_for_seconds": 0,
    "no_data": "keep",
    "no_data_after_seconds": 600,
    "interval_seconds": 60,
}


def clients(*users) -> list[Client]:
    out = []
    for user in users:
        client = Client()
        client.force_login(user)
        out.append(client)
    return out


class RulePageTests(SustainTestCase):
    def setUp(self):
        self.staff, self.manager, self.carol_web, self.dave_web = clients(
            self.alice, self.mia, self.carol, self.dave
        )

    def firing_rule(self) -> ThresholdRule:
        """An acme rule over a series of acme-prod above its critical threshold, evaluated."""
        series = Series.objects.create(
            organization=self.acme,
            config_item=self.acme_prod,
            name="cpu",
            labels={"host": "web1"},
            key=series_key(None, "cpu", {"host": "web1"}),
        )
        now = timezone.now()
        Sample.objects.create(series=series, time=int(now.timestamp() * 1000) - 30_000, value=95)
        Series.objects.filter(pk=series.pk).update(last_sample_at=now - timedelta(seconds=30))
        rule = rules.create_rule(
            self.mia,
            self.acme,
            now=now,
            name="cpu high",
            critical=90,
            critical_recovery=70,
            metric="cpu",
        )
        rule_eval.run_cycle(now=now)
        return rule

    def test_a_manager_makes_a_rule_and_the_actions_refusal_shows_beside_its_field(self):
        data = {"organization": self.acme.pk, "name": "cpu high", **FORM}
        bad = self.manager.post("/monitoring/rules/new", {**data, "critical_recovery": 99})
        self.assertEqual(bad.status_code, 422)
        errors = bad.context["form"].errors
        self.assertIn("critical_recovery", errors)
        self.assertIn("at or below the critical threshold", str(errors["critical_recovery"]))
        self.assertFalse(ThresholdRule.objects.exists())
        made = self.manager.post("/monitoring/rules/new", data)
        self.assertEqual(made.status_code, 302, made.content)
        rule = ThresholdRule.objects.get()
        self.assertEqual(rule.matchers, [{"label": "host", "op": "=", "value": "web1"}])
        self.assertEqual(made["Location"], f"/monitoring/rules/{rule.pk}")
        changed = self.manager.post(
            f"/monitoring/rules/{rule.pk}/edit", {**data, "name": "cpu very high", "critical": 95}
        )
        self.assertEqual(changed.status_code, 302)
        rule.refresh_from_db()
        self.assertEqual((rule.name, rule.critical), ("cpu very high", 95))
        self.assertEqual(self.staff.get("/monitoring/rules/new").status_code, 403)
        self.assertEqual(self.staff.post(f"/monitoring/rules/{rule.pk}/pause").status_code, 403)

    def test_both_data_sources_at_once_are_refused_naming_the_field(self):
        source = prometheus_sources.create_source(
            self.mia, self.acme, name="p", base_url="https://prom.acme.example"
        )
        data = {"organization": self.acme.pk, "name": "r", **FORM, "prometheus": source.pk}
        bad = self.manager.post("/monitoring/rules/new", {**data, "expression": "up"})
        self.assertEqual(bad.status_code, 422)
        self.assertIn("not both", str(bad.context["form"].errors["metric"]))
        good = {**data, "metric": "", "matchers": "", "expression": "up == 0"}
        self.assertEqual(self.manager.post("/monitoring/rules/new", good).status_code, 302)
        self.assertEqual(ThresholdRule.objects.get().prometheus, source)

    def test_list_and_rule_page_show_the_states_alert_and_incident(self):
        rule = self.firing_rule()
        page = self.staff.get("/monitoring/rules").content.decode()
        self.assertIn("cpu high", page)
        self.assertRegex(page, r'level-critical">critical</span>.*?</td>\s*<td>1</td>')
        alert = Alert.objects.get(source=rule.source)
        page = self.staff.get(f"/monitoring/rules/{rule.pk}").content.decode()
        self.assertIn("clears at or below 70", page)
        self.assertIn("the average over 5 min of each series cpu", page)
        self.assertIn(f'/monitoring/alerts/{alert.pk}"', page)
        self.assertIn(f"/desk/t/{alert.ticket.key}", page)
        self.assertIn('host="web1"', page)
        item = self.staff.get(f"/monitoring/items/{self.acme_prod.pk}").content.decode()
        self.assertIn(f'/monitoring/rules/{rule.pk}"', item)
        filtered = self.staff.get("/monitoring/rules?organization=globex").content.decode()
        self.assertNotIn("cpu high", filtered)

    def test_customers_read_their_own_rules_on_the_portal_never_another(self):
        rule = self.firing_rule()
        hop = self.carol_web.get(f"/monitoring/rules/{rule.pk}")
        self.assertEqual(hop["Location"], f"/portal/rules/{rule.pk}")
        page = self.carol_web.get(f"/portal/rules/{rule.pk}").content.decode()
        self.assertIn("cpu high", page)
        ticket = Alert.objects.get(source=rule.source).ticket
        self.assertIn(f"/portal/t/{ticket.key}", page)
        self.assertNotIn("/monitoring/alerts/", page)
        self.assertIn("cpu high", self.carol_web.get("/portal/rules/").content.decode())
        self.assertEqual(self.dave_web.get(f"/portal/rules/{rule.pk}").status_code, 404)
        self.assertNotIn("cpu high", self.dave_web.get("/portal/rules/").content.decode())
        self.assertEqual(self.carol_web.get("/monitoring/rules/new").status_code, 403)

    def test_pause_resume_delete_buttons(self):
        rule = self.firing_rule()
        paused = self.manager.post(f"/monitoring/rules/{rule.pk}/pause", follow=True)
        self.assertIn("paused", paused.content.decode())
        self.assertEqual(Alert.objects.get(source=rule.source).state, Alert.State.RESOLVED)
        self.assertIn("Resume</button>", paused.content.decode())
        self.manager.post(f"/monitoring/rules/{rule.pk}/resume")
        self.assertFalse(ThresholdRule.objects.get().paused)
        gone = self.manager.post(f"/monitoring/rules/{rule.pk}/delete")
        self.assertEqual(gone["Location"], "/monitoring/rules")
        self.assertFalse(ThresholdRule.objects.exists())


@override_settings(OUTBOUND_ALLOW_NETWORKS=("127.0.0.1/32",))
class PrometheusSourcePageTests(SustainTestCase):
    def setUp(self):
        self.staff, self.manager = clients(self.alice, self.mia)

    def test_add_change_test_and_delete_a_source_its_secret_never_shown(self):
        with Site() as site:
            site.content_type = "application/json"
            site.body = (
                b'{"status":"success","data":{"resultType":"vector",'
                b'"result":[{"metric":{},"value":[0,"1"]}]}}'
            )
            data = {
                "organization": self.acme.pk,
                "name": "acme prom",
                "base_url": site.url(""),
                "bearer_token": "tok-secret-77",
                "timeout_seconds": 5,
            }
            self.assertEqual(self.manager.post("/monitoring/prometheus/new", data).status_code, 302)
            source = PrometheusSource.objects.get()
            listed = self.staff.get("/monitoring/prometheus").content.decode()
            self.assertIn("bearer token", listed)
            self.assertNotIn("tok-secret-77", listed)
            edit = self.manager.get(f"/monitoring/prometheus/{source.pk}/edit").content.decode()
            self.assertNotIn("tok-secret-77", edit)
            kept = {**data, "name": "acme prometheus", "bearer_token": ""}
            del kept["organization"]
            self.manager.post(f"/monitoring/prometheus/{source.pk}/edit", kept)
            source.refresh_from_db()
            self.assertEqual(
                (source.name, source.bearer_token), ("acme prometheus", "tok-secret-77")
            )

            tested = self.manager.post(f"/monitoring/prometheus/{source.pk}/test", follow=True)
            self.assertIn("the connection works", tested.content.decode())
            self.assertEqual(site.requests[-1]["headers"]["Authorization"], "Bearer tok-secret-77")
        tested = self.manager.post(f"/monitoring/prometheus/{source.pk}/test", follow=True)
        self.assertIn("connection refused", tested.content.decode())
        self.assertEqual(
            self.staff.post(f"/monitoring/prometheus/{source.pk}/test").status_code, 403
        )

        bad = self.manager.post(
            "/monitoring/prometheus/new", {**data, "name": "x", "base_url": "gopher://x"}
        )
        self.assertEqual(bad.status_code, 422)
        self.assertIn("base_url", bad.context["form"].errors)

        rules.create_rule(
            self.mia, self.acme, name="r", prometheus=source, expression="up", critical=1
        )
        refused = self.manager.post(f"/monitoring/prometheus/{source.pk}/delete", follow=True)
        self.assertTrue(re.search("data source of r", refused.content.decode()))
        ThresholdRule.objects.all().delete()
        self.manager.post(f"/monitoring/prometheus/{source.pk}/delete")
        self.assertFalse(PrometheusSource.objects.exists())


class RuleAdminTests(SustainTestCase):
    def test_the_admin_lists_rules_and_sources_without_their_secrets(self):
        source = prometheus_sources.create_source(
            self.mia, self.acme, name="p", base_url="https://p.example", bearer_token="tok-9911"
        )
        rules.create_rule(
            self.mia, self.acme, name="r", prometheus=source, expression="up", critical=1
        )
        (admin,) = clients(self.root)
        for path in (
            "/admin/monitoring/thresholdrule/",
            "/admin/monitoring/prometheussource/",
            f"/admin/monitoring/prometheussource/{source.pk}/change/",
        ):
            answer = admin.get(path)
            self.assertEqual(answer.status_code, 200, path)
            self.assertNotIn("tok-9911", answer.content.decode())
