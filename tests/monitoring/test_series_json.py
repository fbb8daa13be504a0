"""POST /api/v1/metrics/samples and reading back: all or nothing, the first bad point named by
its place, a token writes only its own organization's (and item's) series, the limits hold."""

from __future__ import annotations

import json

from django.test import Client, override_settings

from sustain.monitoring import actions
from sustain.monitoring.models import HistogramSample, Sample, Series
from tests.base import SustainTestCase

URL = "/api/v1/metrics/samples"
T0 = 1_765_100_000  # 2025-12-07T09:33:20Z


def gauge(name="checkout_latency", points=None, **fields):
    return {
        "name": name,
        "labels": fields.pop("labels", {"route": "/pay"}),
        "kind": "gauge",
        "unit": "ms",
        "points": points if points is not None else [[T0, 12.5], [T0 + 60, 13.0]],
        **fields,
    }


class SamplesTestCase(SustainTestCase):
    def setUp(self):
        self.token, self.raw = actions.create_machine_token(self.mia, self.acme, name="otel")
        self.client = Client()

    def send(self, body, raw: str | None = None, **headers):
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        return self.client.post(
            URL,
            data,
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw or self.raw}", **headers},
        )


class BatchTests(SamplesTestCase):
    def test_a_batch_of_series_is_written_and_read_back_as_sent(self):
        histogram = {
            "name": "checkout_duration",
            "kind": "histogram",
            "unit": "s",
            "config_item": "acme-prod",
            "points": [
                {
                    "time": T0,
                    "bounds": [0.1, 0.5, 1],
                    "counts": [3, 5, 1, 0],
                    "count": 9,
                    "sum": 2.5,
                },
                {
                    "time": "2025-12-07T09:34:20Z",
                    "bounds": [0.1, 0.5, 1],
                    "counts": [1, 0, 0, 2],
                    "count": 3,
                    "sum": 9.0,
                },
            ],
        }
        response = self.send({"series": [gauge(), gauge(labels={"route": "/cart"}), histogram]})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            response.json(), {"series": 3, "created": 3, "points": 4, "histogram_points": 2}
        )
        carol = self.api(self.carol)
        listed = carol.get("/api/v1/metrics/series", label="route:/pay").json()["results"]
        self.assertEqual(
            [(s["name"], s["labels"]) for s in listed], [("checkout_latency", {"route": "/pay"})]
        )
        points = carol.get(f"/api/v1/metrics/series/{listed[0]['id']}/points").json()
        self.assertEqual(points["points"], [[T0, 12.5], [T0 + 60, 13.0]])
        hist = Series.objects.get(name="checkout_duration")
        self.assertEqual(hist.config_item, self.acme_prod)
        back = carol.get(f"/api/v1/metrics/series/{hist.pk}/points").json()["points"]
        self.assertEqual(
            back,
            [
                {
                    "time": T0,
                    "count": 9,
                    "sum": 2.5,
                    "bounds": [0.1, 0.5, 1],
                    "counts": [3, 5, 1, 0],
                },
                {
                    "time": T0 + 60,
                    "count": 3,
                    "sum": 9.0,
                    "bounds": [0.1, 0.5, 1],
                    "counts": [1, 0, 0, 2],
                },
            ],
        )
        ranged = carol.get(
            f"/api/v1/metrics/series/{listed[0]['id']}/points",
            start="2025-12-07T09:34:00Z",
        ).json()["points"]
        self.assertEqual(ranged, [[T0 + 60, 13.0]])

    def test_a_retried_batch_is_kept_once_and_the_series_reused(self):
        self.send({"series": [gauge()]})
        again = self.send({"series": [gauge(points=[[T0, 99.0], [T0 + 120, 14.0]])]})
        self.assertEqual(again.status_code, 200, again.content)
        self.assertEqual(again.json()["created"], 0)
        self.assertEqual(Series.objects.count(), 1)
        self.assertEqual(
            list(Sample.objects.order_by("time").values_list("value", flat=True)),
            [12.5, 13.0, 14.0],
        )
        self.assertEqual(Series.objects.get().last_sample_at.timestamp(), T0 + 120)

    def test_the_first_bad_point_is_named_and_nothing_is_written(self):
        cases = [
            ([[T0, 1.0], [T0, "high"]], "series.1.points.1.value"),
            ([[T0, 1.0], [T0 + 1, True]], "series.1.points.1.value"),  # a boolean is no number
            ([[True, 1.0]], "series.1.points.0.time"),
            ([[T0, 1e308 * 10]], "series.1.points.0.value"),  # JSON's 1e309: infinity
            ([[T0, 1.0], [T0 + 1, 2.0], ["yesterday", 3.0]], "series.1.points.2.time"),
            ([[T0, 1.0], [T0, 2.0, 3.0]], "series.1.points.1"),
            ([[T0 * 1000, 1.0]], "series.1.points.0.time"),  # milliseconds sent as seconds
            ([["2025-12-07T09:33:20", 1.0]], "series.1.points.0.time"),  # no offset
        ]
        for points, field in cases:
            with self.subTest(field=field):
                response = self.send({"series": [gauge(), gauge("other", points=points)]})
                self.assertEqual(response.status_code, 422, response.content)
                self.assertEqual(response.json()["errors"][0]["field"], field)
                self.assertEqual(Series.objects.count(), 0)
                self.assertEqual(Sample.objects.count(), 0)

    def test_a_bad_histogram_is_named_by_its_field(self):
        good = {"time": T0, "bounds": [1, 2], "counts": [1, 1, 1], "count": 3, "sum": 4}
        cases = [
            ({**good, "counts": [1, 1]}, "series.0.points.1.counts"),
            ({**good, "count": 4}, "series.0.points.1.count"),
            ({**good, "bounds": [2, 1]}, "series.0.points.1.bounds"),
            ({**good, "colour": "red"}, "series.0.points.1.colour"),
            ({**good, "counts": [1, -1, 3]}, "series.0.points.1.counts.1"),
        ]
        for point, field in cases:
            with self.subTest(field=field):
                body = {"series": [{"name": "h", "kind": "histogram", "points": [good, point]}]}
                response = self.send(body)
                self.assertEqual(response.status_code, 422, response.content)
                self.assertEqual(response.json()["errors"][0]["field"], field)
                self.assertEqual(HistogramSample.objects.count(), 0)

    def test_unknown_fields_are_refused_by_name(self):
        for body, field in [
            ({"series": [gauge()], "extra": 1}, "extra"),
            ({"series": [{**gauge(), "colour": "red"}]}, "series.0.colour"),
        ]:
            response = self.send(body)
            self.assertEqual(response.status_code, 422, response.content)
            self.assertIn(field, [e["field"] for e in response.json()["errors"]])
        self.assertEqual(Series.objects.count(), 0)

    def test_a_series_changing_kind_is_refused(self):
        self.send({"series": [gauge()]})
        response = self.send({"series": [{**gauge(), "kind": "counter"}]})
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual(response.json()["errors"][0]["field"], "series.0.kind")


class TenancyTests(SamplesTestCase):
    def test_a_token_never_writes_another_organizations_item(self):
        response = self.send({"series": [gauge(config_item=self.globex_prod.pk)]})
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual(response.json()["errors"][0]["field"], "series.0.config_item")
        response = self.send({"series": [gauge(config_item="globex-prod")]})
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual(Series.objects.count(), 0)

    def test_a_token_bound_to_an_item_writes_only_that_item(self):
        _, raw = actions.create_machine_token(
            self.mia, self.acme, name="prod only", config_item=self.acme_prod
        )
        self.assertEqual(self.send({"series": [gauge()]}, raw=raw).status_code, 200)
        self.assertEqual(Series.objects.get().config_item, self.acme_prod)
        from sustain.cmdb import actions as cmdb

        other = cmdb.create_config_item(
            self.root, organization=self.acme, name="acme-staging", kind="environment"
        )
        response = self.send({"series": [gauge(config_item=other.pk)]}, raw=raw)
        self.assertEqual(response.status_code, 403, response.content)
        self.assertEqual(response.json()["errors"][0]["field"], "series.0.config_item")

    def test_people_and_revoked_tokens_cannot_send(self):
        self.assertEqual(
            self.send({"series": [gauge()]}, raw=self.token_for(self.mia)).status_code, 401
        )
        actions.revoke_machine_token(self.mia, self.token)
        self.assertEqual(self.send({"series": [gauge()]}).status_code, 401)
        self.assertEqual(Series.objects.count(), 0)

    def test_customers_read_only_their_organizations_series(self):
        self.send({"series": [gauge()]})
        _, globex_raw = actions.create_machine_token(self.mia, self.globex, name="globex")
        self.send({"series": [gauge("globex_only")]}, raw=globex_raw)
        dave = self.api(self.dave)
        self.assertEqual(
            [s["name"] for s in dave.get("/api/v1/metrics/series").json()["results"]],
            ["globex_only"],
        )
        acme_series = Series.objects.get(organization=self.acme)
        self.assertEqual(
            dave.get(f"/api/v1/metrics/series/{acme_series.pk}/points").status_code, 404
        )
        names = [
            s["name"] for s in self.api(self.alice).get("/api/v1/metrics/series").json()["results"]
        ]
        self.assertEqual(sorted(names), ["checkout_latency", "globex_only"])


class LimitTests(SamplesTestCase):
    @override_settings(MAX_SERIES_PER_ORG=3)
    def test_a_cardinality_explosion_is_refused_naming_the_metric_and_the_limit(self):
        self.assertEqual(self.send({"series": [gauge(labels={"user": "1"})]}).status_code, 200)
        batch = [gauge("per_user", labels={"user": str(i)}) for i in range(5)]
        response = self.send({"series": batch})
        self.assertEqual(response.status_code, 422, response.content)
        detail = response.json()["detail"]
        self.assertIn("per_user", detail)
        self.assertIn("limit of 3 series", detail)
        self.assertIn("SUSTAIN_MAX_SERIES_PER_ORG", detail)
        self.assertEqual(Series.objects.count(), 1)
        # Known series still take points at the limit.
        self.assertEqual(self.send({"series": [gauge(labels={"user": "1"})]}).status_code, 200)

    @override_settings(METRICS_MAX_SAMPLES=10)
    def test_too_many_points_in_one_batch(self):
        points = [[T0 + i, float(i)] for i in range(11)]
        response = self.send({"series": [gauge(points=points)]})
        self.assertEqual(response.status_code, 413, response.content)
        self.assertEqual(Sample.objects.count(), 0)

    @override_settings(METRICS_MAX_BODY=1000)
    def test_a_body_over_the_size_limit_is_refused_before_it_is_read(self):
        points = [[T0 + i, float(i)] for i in range(200)]
        response = self.send({"series": [gauge(points=points)]})
        self.assertEqual(response.status_code, 413, response.content)
        self.assertIn("SUSTAIN_METRICS_MAX_BODY", response.json()["detail"])
        self.assertEqual(Series.objects.count(), 0)

    def test_non_finite_values_are_refused(self):
        response = self.send('{"series": [{"name": "x", "points": [[1765100000, NaN]]}]}')
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual(response.json()["errors"][0]["field"], "series.0.points.0.value")


class DeletionTests(SamplesTestCase):
    def test_deleting_a_series_takes_its_points_only(self):
        histogram = {
            "name": "h",
            "kind": "histogram",
            "points": [{"time": T0, "bounds": [1], "counts": [1, 0], "count": 1, "sum": 0.5}],
        }
        self.send({"series": [gauge(), histogram]})
        self.assertEqual((Sample.objects.count(), HistogramSample.objects.count()), (2, 1))
        Series.objects.get(name="h").delete()
        self.assertEqual((Sample.objects.count(), HistogramSample.objects.count()), (2, 0))
        Series.objects.all().delete()
        self.assertEqual(Sample.objects.count(), 0)
