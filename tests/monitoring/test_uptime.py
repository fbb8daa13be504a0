"""Uptime: the interval arithmetic (against a minute-by-minute model), and the figures of
sources and items from real alert histories, maintenance windows counted as up, in a fixed
number of queries for many sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem, Relation
from sustain.monitoring import actions, uptime
from sustain.monitoring.alerts import Signal
from sustain.monitoring.models import Source
from sustain.monitoring.uptime import clip, subtract, total, union
from tests.base import SustainTestCase

BASE = datetime(2026, 12, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
H = timedelta(hours=1)

minutes = st.integers(min_value=0, max_value=300)
intervals = st.lists(st.tuples(minutes, minutes), max_size=12)


def real(pairs):
    return [(BASE + timedelta(minutes=a), BASE + timedelta(minutes=b)) for a, b in pairs]


def covered(pairs) -> set[int]:
    return {m for a, b in pairs for m in range(a, b)}


def as_minutes(result) -> set[int]:
    return covered(
        [
            ((a - BASE) // timedelta(minutes=1), (b - BASE) // timedelta(minutes=1))
            for a, b in result
        ]
    )


@given(intervals)
def test_union_covers_the_same_minutes_sorted_and_disjoint(pairs):
    merged = union(real(pairs))
    assert as_minutes(merged) == covered(pairs)
    assert all(a < b for a, b in merged)
    assert all(merged[i][1] < merged[i + 1][0] for i in range(len(merged) - 1))
    assert total(real(pairs)) == timedelta(minutes=len(covered(pairs)))


@given(intervals, intervals)
def test_subtract_leaves_what_is_outside_the_cut(base, cut):
    assert as_minutes(subtract(real(base), real(cut))) == covered(base) - covered(cut)


@given(intervals, minutes, minutes)
def test_clip_keeps_what_lies_inside(pairs, start, end):
    result = clip(real(pairs), BASE + timedelta(minutes=start), BASE + timedelta(minutes=end))
    assert as_minutes(result) == covered(pairs) & set(range(start, end))


def test_labels_never_round_an_outage_up_to_a_hundred():
    nearly = uptime.Uptime(99.999, timedelta(seconds=1), timedelta(), timedelta(days=1))
    assert nearly.label == "99.99 %"
    assert uptime.Uptime(100.0, timedelta(), timedelta(), H).label == "100 %"
    assert uptime.Uptime(None, timedelta(), timedelta(), timedelta()).label == "—"


class UptimeTests(SustainTestCase):
    def setUp(self):
        self.source = actions.create_source(self.mia, self.acme, name="prometheus-eu")
        Source.objects.filter(pk=self.source.pk).update(created_at=NOW - timedelta(days=10))
        self.source.refresh_from_db()

    def signal(self, state, at, fingerprint="disk", item=None, source=None):
        return actions.receive(
            source or self.source,
            Signal(
                fingerprint=fingerprint,
                state=state,
                name=f"Alert {fingerprint}",
                starts_at=at,
                ends_at=at if state == "resolved" else None,
                config_item=item or self.acme_prod,
            ),
            now=at,
        )

    def test_an_outage_three_days_ago_counts_in_seven_and_thirty_days_only(self):
        self.signal("firing", NOW - timedelta(days=3))
        self.signal("resolved", NOW - timedelta(days=3) + 3 * H)
        figures = uptime.for_sources([self.source], now=NOW)[self.source.pk]
        assert figures["24h"].percent == 100.0
        assert figures["7d"].down == 3 * H
        assert abs(figures["7d"].percent - 100 * (1 - 3 / 168)) < 1e-9
        # Watched for ten days only: 3 h of 240 h, not of 720 h.
        assert figures["30d"].observed == timedelta(days=10)
        assert abs(figures["30d"].percent - 100 * (1 - 3 / 240)) < 1e-9

    def test_an_alert_firing_since_before_the_span_is_down_all_along(self):
        Source.objects.filter(pk=self.source.pk).update(created_at=NOW - timedelta(days=60))
        self.source.refresh_from_db()
        self.signal("firing", NOW - timedelta(days=40))
        figures = uptime.for_sources([self.source], now=NOW)[self.source.pk]
        assert [f.percent for f in figures.values()] == [0.0, 0.0, 0.0]
        # The first event in the span a resolution: it fired from the span's start until then.
        self.signal("resolved", NOW - 6 * H)
        figures = uptime.for_sources([self.source], now=NOW)[self.source.pk]
        assert figures["24h"].down == 18 * H

    def test_an_alert_first_seen_resolved_is_no_outage(self):
        self.signal("resolved", NOW - 2 * H)
        assert uptime.for_sources([self.source], now=NOW)[self.source.pk]["24h"].percent == 100

    def test_two_alerts_at_once_are_one_outage(self):
        self.signal("firing", NOW - 4 * H, "a")
        self.signal("firing", NOW - 3 * H, "b")
        self.signal("resolved", NOW - 2 * H, "a")
        self.signal("resolved", NOW - 1 * H, "b")
        assert uptime.for_sources([self.source], now=NOW)[self.source.pk]["24h"].down == 3 * H

    def test_firing_inside_a_maintenance_window_counts_as_up_and_apart(self):
        database = cmdb.create_config_item(
            self.root, organization=self.acme, name="acme-db", kind=ConfigItem.Kind.DATABASE
        )
        cmdb.relate(self.root, self.acme_prod, database, Relation.Kind.DEPENDS_ON)
        # The window is on the database: the production environment that needs it is covered.
        actions.create_window(
            self.alice,
            self.acme,
            name="Database upgrade",
            starts_at=NOW - 2 * H,
            ends_at=NOW - 1 * H,
            config_items=[database],
        )
        self.signal("firing", NOW - 90 * timedelta(minutes=1))
        self.signal("resolved", NOW - 30 * timedelta(minutes=1))
        figures = uptime.for_sources([self.source], now=NOW)[self.source.pk]["24h"]
        assert figures.down == timedelta(minutes=30)  # the half hour after the window
        assert figures.maintenance == timedelta(minutes=30)
        by_item = uptime.for_items([self.acme_prod.pk, database.pk], now=NOW)
        assert by_item[self.acme_prod.pk]["24h"].down == timedelta(minutes=30)
        assert by_item[database.pk]["24h"].percent is None  # nothing watches the database

    def test_a_whole_organization_window_covers_every_item(self):
        actions.create_window(
            self.alice,
            self.acme,
            name="Everything",
            starts_at=NOW - 5 * H,
            ends_at=NOW - 1 * H,
            whole_organization=True,
        )
        self.signal("firing", NOW - 3 * H)
        self.signal("resolved", NOW - 2 * H)
        figures = uptime.for_sources([self.source], now=NOW)[self.source.pk]["24h"]
        assert (figures.percent, figures.maintenance) == (100.0, H)

    def test_many_sources_cost_as_many_queries_as_one(self):
        def cost(sources):
            with CaptureQueriesContext(connection) as queries:
                uptime.for_sources(sources, now=NOW)
            return len(queries)

        self.signal("firing", NOW - 3 * H)
        one = cost([self.source])
        more = [self.source]
        for n in range(5):
            source = actions.create_source(self.mia, self.acme, name=f"extra {n}")
            self.signal("firing", NOW - n * H, f"x{n}", source=source)
            self.signal("resolved", NOW - n * H + H / 2, f"x{n}", source=source)
            more.append(source)
        assert cost(more) == one
