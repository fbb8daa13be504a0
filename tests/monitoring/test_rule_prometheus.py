"""Rules over a Prometheus server, against a real HTTP server on 127.0.0.1 that answers as
Prometheus' API does (the answer set by the test; tests/integration/test_rule_prometheus_peer.py
runs the real Prometheus): what a vector, a scalar, a matrix, `status: error`, a non-JSON 502,
an oversized answer and too many elements make of a rule; the credentials sent; the source API
(managers write, no cross-tenant read, secrets write-only, unknown fields refused, delete
refused while rules read from it); and validation (a selector or a source and expression)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from django.db import connection
from django.test import override_settings

from sustain.core.errors import Invalid
from sustain.monitoring import prometheus_api, prometheus_sources, rule_eval, rules
from sustain.monitoring.models import Alert, PrometheusSource, PrometheusState, ThresholdRule
from tests.base import SustainTestCase
from tests.monitoring.servers import Site

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
Level = PrometheusState.Level


def vector(*elements: tuple[dict, str]) -> bytes:
    result = [{"metric": labels, "value": [T0.timestamp(), value]} for labels, value in elements]
    return json.dumps(
        {"status": "success", "data": {"resultType": "vector", "result": result}}
    ).encode()


@override_settings(OUTBOUND_ALLOW_NETWORKS=("127.0.0.1/32",))
class PrometheusRuleTests(SustainTestCase):
    def setUp(self):
        super().setUp()
        self.site = Site().start()
        self.addCleanup(self.site.stop)
        self.site.content_type = "application/json"
        self.source = prometheus_sources.create_source(
            self.mia, self.acme, name="prom", base_url=self.site.url(""), bearer_token="s3cret"
        )

    def rule(self, **settings) -> ThresholdRule:
        settings = {
            "name": "errors",
            "prometheus": self.source,
            "expression": 'rate(errors_total{job="api"}[5m])',
            "critical": 10,
            "critical_recovery": 5,
            **settings,
        }
        return rules.create_rule(self.mia, self.acme, now=T0, **settings)

    def cycle(self, rule: ThresholdRule, seconds: int) -> ThresholdRule:
        now = T0 + timedelta(seconds=seconds)
        ThresholdRule.objects.filter(pk=rule.pk).update(next_eval_at=now)
        rule_eval.run_cycle(now=now)
        rule.refresh_from_db()
        return rule

    def levels(self, rule: ThresholdRule) -> dict[str, str]:
        found = PrometheusState.objects.filter(rule=rule)
        return {s.labels.get("instance", ""): s.level for s in found}

    def test_each_element_is_a_state_with_its_own_alert_and_the_query_is_as_prometheus_takes_it(
        self,
    ):
        rule = self.rule(for_seconds=60)
        self.site.body = vector(({"instance": "a"}, "50"), ({"instance": "b"}, "1"))
        self.cycle(rule, 0)
        self.cycle(rule, 60)
        self.assertEqual(self.levels(rule), {"a": Level.CRITICAL, "b": Level.OK})
        (asked,) = {r["path"] for r in self.site.requests[:1]}
        query = parse_qs(urlsplit(asked).query)
        self.assertEqual(urlsplit(asked).path, "/api/v1/query")
        self.assertEqual(query["query"], ['rate(errors_total{job="api"}[5m])'])
        self.assertEqual(float(query["time"][0]), T0.timestamp())
        self.assertEqual(self.site.requests[0]["headers"]["Authorization"], "Bearer s3cret")
        alert = Alert.objects.get(source=rule.source)
        key = PrometheusState.objects.get(rule=rule, labels__instance="a").key
        self.assertEqual(alert.fingerprint, key)
        self.assertTrue(key.startswith("prom-"))

        self.site.body = vector(({"instance": "a"}, "NaN"), ({"instance": "b"}, "1"))
        self.cycle(rule, 120)  # NaN is no value: the level is kept (policy keep)
        self.assertEqual(self.levels(rule)["a"], Level.CRITICAL)
        self.site.body = vector(({"instance": "b"}, "1"))
        self.cycle(rule, 180)  # a gone from the answer: no data, kept
        self.assertEqual(self.levels(rule)["a"], Level.CRITICAL)
        self.site.body = vector(({"instance": "a"}, "4"), ({"instance": "b"}, "1"))
        self.cycle(rule, 240)
        alert.refresh_from_db()
        self.assertEqual(alert.state, Alert.State.RESOLVED)

    def test_errors_are_recorded_on_the_rule(self):
        rule = self.rule()
        cases = [
            (
                400,
                b'{"status":"error","errorType":"bad_data","error":"parse error at 1:4"}',
                "Prometheus refused the query (bad_data): parse error at 1:4",
            ),
            (502, b"<html>bad gateway</html>", "Prometheus answered HTTP 502, not its API's JSON."),
            (
                200,
                b'{"status":"success","data":{"resultType":"matrix","result":[]}}',
                "gives a matrix",
            ),
            (
                200,
                b'{"status":"success","data":{"resultType":"string","result":[0,"x"]}}',
                "gives a string",
            ),
            (200, vector(*[({"instance": str(i)}, "1") for i in range(1001)]), "more than 1000"),
        ]
        for status, body, error in cases:
            with self.subTest(error):
                self.site.status, self.site.body = status, body
                rule = self.cycle(rule, 0)
                self.assertIn(error, rule.last_error)
        self.site.status, self.site.body = 200, vector(({}, "1"))
        self.assertEqual(self.cycle(rule, 0).last_error, "")

    def test_an_oversized_answer_is_refused(self):
        rule = self.rule()
        self.site.body = vector(({"instance": "x" * prometheus_api.ANSWER_MAX}, "1"))
        self.assertIn("larger than 1024 KiB", self.cycle(rule, 0).last_error)

    def test_a_server_down_from_the_start_goes_no_data_by_the_rule_policy(self):
        rule = self.rule(no_data="alert", no_data_after_seconds=120)
        self.site.stop()
        rule = self.cycle(rule, 0)
        self.assertIn("connection refused", rule.last_error)
        (state,) = PrometheusState.objects.filter(rule=rule)
        self.assertEqual((state.labels, state.level), ({}, Level.OK))
        self.cycle(rule, 120)
        state.refresh_from_db()
        self.assertEqual(state.level, Level.NODATA)
        self.assertEqual(Alert.objects.get(source=rule.source).state, Alert.State.FIRING)
        self.site.start()  # answers again: the query's own state goes, its alert resolves
        self.site.body = vector(({"instance": "a"}, "1"))
        rule = self.cycle(rule, 180)
        self.assertEqual((rule.last_error, self.levels(rule)), ("", {"a": Level.OK}))
        self.assertEqual(Alert.objects.get(source=rule.source).state, Alert.State.RESOLVED)

    def test_a_long_expression_is_posted_and_basic_auth_is_sent(self):
        source = prometheus_sources.update_source(
            self.mia, self.source, {"bearer_token": "", "username": "sus", "password": "pw"}
        )
        long = " + ".join(f'errors_total{{job="api-{i}"}}' for i in range(60))
        rule = self.rule(prometheus=source, expression=long)
        self.site.body = vector(({}, "1"))
        self.assertEqual(self.cycle(rule, 0).last_error, "")
        sent = self.site.requests[-1]
        self.assertEqual(sent["method"], "POST")
        pair = base64.b64encode(b"sus:pw").decode()
        self.assertEqual(sent["headers"]["Authorization"], f"Basic {pair}")

    def test_validation_a_selector_or_a_source_and_an_expression(self):
        cases = [
            ({"metric": "cpu", "prometheus": self.source, "expression": "up"}, "metric"),
            ({"metric": "", "expression": "up"}, "prometheus"),
            ({"metric": "", "prometheus": self.source, "expression": ""}, "expression"),
            ({"metric": ""}, "metric"),
            ({"metric": "", "prometheus": self.source, "expression": "x" * 2001}, "expression"),
            ({"metric": "", "prometheus": self.source, "expression": "up\x00"}, "expression"),
            (
                {
                    "prometheus": self.source,
                    "expression": "up",
                    "matchers": [{"label": "a", "op": "=", "value": "b"}],
                },
                "matchers",
            ),
        ]
        for settings, field in cases:
            with self.subTest(settings=settings), self.assertRaises(Invalid) as caught:
                rules.create_rule(self.mia, self.acme, name="r", critical=1, **settings)
            self.assertEqual(caught.exception.errors[0]["field"], field)
        globex = prometheus_sources.create_source(
            self.mia, self.globex, name="g", base_url="https://prom.globex.example"
        )
        with self.assertRaises(Invalid) as caught:
            self.rule(prometheus=globex)
        self.assertEqual(caught.exception.errors[0]["field"], "prometheus")

    def test_switching_a_rule_to_sustains_series_forgets_its_states_and_resolves(self):
        rule = self.rule()
        self.site.body = vector(({"instance": "a"}, "50"))
        self.cycle(rule, 0)
        self.assertEqual(Alert.objects.get().state, Alert.State.FIRING)
        states = self.api(self.carol).get(f"/api/v1/monitoring/rules/{rule.pk}/states").json()
        self.assertEqual(
            [(s["series"], s["labels"], s["level"]) for s in states["results"]],
            [(None, {"instance": "a"}, "critical")],
        )
        self.assertEqual(
            self.api(self.dave).get(f"/api/v1/monitoring/rules/{rule.pk}/states").status_code, 404
        )
        rule = rules.update_rule(
            self.mia,
            rule,
            {"expression": 'errors_total{job="web"}'},
            now=T0 + timedelta(seconds=30),
        )
        self.assertFalse(PrometheusState.objects.exists())  # another question: states forgotten
        self.assertEqual(Alert.objects.get().state, Alert.State.RESOLVED)
        self.cycle(rule, 60)
        self.assertEqual(Alert.objects.filter(state=Alert.State.FIRING).count(), 1)
        rules.update_rule(
            self.mia, rule, {"prometheus": None, "expression": "", "metric": "errors"}
        )
        self.assertFalse(PrometheusState.objects.exists())
        self.assertFalse(Alert.objects.filter(state=Alert.State.FIRING).exists())


@override_settings(OUTBOUND_ALLOW_NETWORKS=("127.0.0.1/32",))
class PrometheusApiTests(SustainTestCase):
    URL = "/api/v1/monitoring/prometheus-sources"
    RULES = "/api/v1/monitoring/rules"

    def test_sources_managers_write_no_cross_tenant_secrets_write_only(self):
        body = {
            "organization": "acme",
            "name": "acme prom",
            "base_url": "https://prom.acme.example/",
            "bearer_token": "tok-123",
        }
        self.assertEqual(self.api(self.carol).post(self.URL, body).status_code, 403)
        self.assertEqual(self.api(self.alice).post(self.URL, body).status_code, 403)
        extra = self.api(self.mia).post(self.URL, {**body, "colour": "red"})
        self.assertEqual(extra.status_code, 422)
        self.assertIn("colour", extra.content.decode())
        bad = self.api(self.mia).post(self.URL, {**body, "base_url": "ftp://x.example"})
        self.assertEqual((bad.status_code, bad.json()["errors"][0]["field"]), (422, "base_url"))
        both = self.api(self.mia).post(self.URL, {**body, "username": "u"})
        self.assertEqual(both.json()["errors"][0]["field"], "username")
        made = self.api(self.mia).post(self.URL, body)
        self.assertEqual(made.status_code, 201, made.content)
        out = made.json()
        self.assertEqual(
            (out["base_url"], out["has_bearer_token"]), ("https://prom.acme.example", True)
        )
        self.assertNotIn("tok-123", made.content.decode())
        source_id = out["id"]
        stored = PrometheusSource.objects.get(pk=source_id)
        self.assertEqual(stored.bearer_token, "tok-123")
        with connection.cursor() as cursor:  # sealed at rest
            cursor.execute(
                "SELECT bearer_token FROM monitoring_prometheussource WHERE id = %s", [source_id]
            )
            self.assertTrue(cursor.fetchone()[0].startswith("sealed:"))

        self.assertEqual(self.api(self.carol).get(f"{self.URL}/{source_id}").status_code, 200)
        self.assertEqual(self.api(self.dave).get(f"{self.URL}/{source_id}").status_code, 404)
        self.assertEqual(self.api(self.dave).get(self.URL).json()["results"], [])
        cleared = self.api(self.mia).patch(f"{self.URL}/{source_id}", {"bearer_token": ""})
        self.assertFalse(cleared.json()["has_bearer_token"])
        self.assertEqual(
            self.api(self.mia).patch(f"{self.URL}/{source_id}", {"x": 1}).status_code, 422
        )

        rule = self.api(self.mia).post(
            self.RULES,
            {
                "organization": "acme",
                "name": "up",
                "prometheus": source_id,
                "expression": "up == 0",
                "critical": 0.5,
                "comparison": "above",
            },
        )
        self.assertEqual(rule.status_code, 201, rule.content)
        self.assertEqual((rule.json()["prometheus"], rule.json()["metric"]), (source_id, ""))
        foreign = self.api(self.mia).post(
            self.RULES,
            {
                "organization": "globex",
                "name": "up",
                "prometheus": source_id,
                "expression": "up",
                "critical": 1,
            },
        )
        self.assertEqual(
            (foreign.status_code, foreign.json()["errors"][0]["field"]), (422, "prometheus")
        )
        missing = self.api(self.mia).post(
            self.RULES,
            {
                "organization": "acme",
                "name": "x",
                "prometheus": 999999,
                "expression": "up",
                "critical": 1,
            },
        )
        self.assertEqual(missing.json()["errors"][0]["field"], "prometheus")
        refused = self.api(self.mia).delete(f"{self.URL}/{source_id}")
        self.assertEqual(refused.status_code, 409)
        self.assertEqual(
            self.api(self.mia).delete(f"{self.RULES}/{rule.json()['id']}").status_code, 204
        )
        self.assertEqual(self.api(self.mia).delete(f"{self.URL}/{source_id}").status_code, 204)

    def test_test_connection(self):
        with Site() as site:
            site.content_type = "application/json"
            site.body = vector(({}, "1"))
            source = prometheus_sources.create_source(
                self.mia, self.acme, name="p", base_url=site.url("")
            )
            answer = self.api(self.mia).post(f"{self.URL}/{source.pk}/test")
            self.assertEqual(answer.json()["ok"], True, answer.content)
            self.assertIn("query=vector%281%29", site.requests[-1]["path"])
            site.body = b'{"status":"success","data":{"resultType":"vector","result":[]}}'
            answer = self.api(self.mia).post(f"{self.URL}/{source.pk}/test")
            self.assertEqual(answer.json()["ok"], False)
        self.assertEqual(self.api(self.carol).post(f"{self.URL}/{source.pk}/test").status_code, 403)
        source.refresh_from_db()
        self.assertIn("something else", source.check_error)
