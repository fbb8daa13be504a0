"""Maintenance windows hold alerts (no incident, nobody paged) and release the ones still
firing when they end; resolutions always count. An alert on an item whose upstream item
already fires joins that incident as a child, or names it when the desk forbids the parent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem
from sustain.desk.models import Channel, Status, Ticket
from sustain.monitoring import actions, windows
from sustain.monitoring.alerts import Signal
from sustain.monitoring.models import Alert, Window
from tests.base import SustainTestCase


class WindowTests(SustainTestCase):
    def setUp(self):
        self.source = actions.create_source(self.mia, self.acme, name="am")
        self.database = cmdb.create_config_item(
            self.root, organization=self.acme, name="acme-db", kind=ConfigItem.Kind.DATABASE
        )
        self.api_item = cmdb.create_config_item(
            self.root, organization=self.acme, name="acme-api", kind=ConfigItem.Kind.SERVICE
        )
        cmdb.relate(self.root, self.api_item, self.database, "depends_on")

    def fire(self, item, fingerprint="f1", state="firing", now=None):
        signal = Signal(
            fingerprint=fingerprint,
            state=state,
            name="DatabaseDown",
            starts_at=datetime(2026, 12, 7, 9, tzinfo=UTC),
            ends_at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC) if state == "resolved" else None,
            config_item=item,
        )
        return actions.receive(self.source, signal, now=now)

    def window(self, **fields):
        now = timezone.now()
        fields.setdefault("starts_at", now - timedelta(minutes=10))
        fields.setdefault("ends_at", now + timedelta(minutes=50))
        fields.setdefault("config_items", [self.database])
        return windows.create_window(
            self.alice, self.acme, name="DB upgrade", reason="2.4 → 2.5", **fields
        )

    def incidents(self):
        return Ticket.objects.filter(channel=Channel.MONITORING)

    def test_an_alert_inside_a_window_opens_nothing_and_is_released_when_it_ends(self):
        window = self.window()
        outcome = self.fire(self.api_item)  # the API needs the database in maintenance
        self.assertEqual(outcome.what, "held")
        self.assertFalse(self.incidents().exists())
        alert = Alert.objects.get()
        self.assertEqual(alert.window, window)
        self.assertEqual(actions.release_sweep(), 0)
        after = window.ends_at + timedelta(seconds=1)
        self.assertEqual(actions.release_sweep(now=after), 1)
        self.assertEqual(self.incidents().count(), 1)
        self.assertEqual(actions.release_sweep(now=after), 0)  # claimed once
        kinds = list(alert.history.order_by("id").values_list("what", flat=True))
        self.assertEqual(kinds, ["firing", "held", "released"])

    def test_a_resolution_inside_the_window_is_recorded_and_nothing_opens_later(self):
        window = self.window()
        self.fire(self.database)
        self.assertEqual(self.fire(self.database, state="resolved").what, "recorded")
        self.assertEqual(actions.release_sweep(now=window.ends_at + timedelta(minutes=1)), 0)
        self.assertFalse(self.incidents().exists())
        self.assertEqual(Alert.objects.get().state, "resolved")

    def test_a_resolution_of_an_open_incident_is_delivered_in_a_window(self):
        self.fire(self.database)
        self.window()
        self.assertEqual(self.fire(self.database, state="resolved").what, "resolved")
        self.assertEqual(self.incidents().get().status, Status.RESOLVED)

    def test_recurring_windows_follow_their_rrule_in_their_time_zone(self):
        # Every Sunday 02:00–04:00 in Paris, from a Sunday in summer time.
        start = datetime(2026, 7, 5, 0, 0, tzinfo=UTC)  # 02:00 CEST
        window = self.window(
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            rrule="FREQ=WEEKLY;BYDAY=SU",
            zone="Europe/Paris",
        )
        winter_sunday = datetime(2026, 12, 6, 1, 30, tzinfo=UTC)  # 02:30 CET
        self.assertIsNotNone(windows.occurrence_at(window, winter_sunday))
        self.assertIsNone(windows.occurrence_at(window, datetime(2026, 12, 6, 3, 30, tzinfo=UTC)))
        self.assertIsNone(windows.occurrence_at(window, datetime(2026, 12, 7, 1, 30, tzinfo=UTC)))
        self.assertEqual(self.fire(self.database, now=winter_sunday).what, "held")

    def test_windows_refuse_what_they_cannot_mean(self):
        from sustain.core.errors import Forbidden, Invalid

        with self.assertRaises(Invalid) as bad_rule:
            self.window(rrule="FREQ=SOMETIMES")
        self.assertEqual(bad_rule.exception.errors[0]["field"], "rrule")
        with self.assertRaises(Invalid) as bad_zone:
            self.window(zone="Mars/Olympus")
        self.assertEqual(bad_zone.exception.errors[0]["field"], "timezone")
        with self.assertRaises(Invalid):
            self.window(config_items=[self.globex_prod])
        with self.assertRaises(Forbidden):
            windows.create_window(
                self.carol,
                self.acme,
                name="x",
                starts_at=timezone.now(),
                ends_at=timezone.now() + timedelta(hours=1),
                whole_organization=True,
            )
        self.assertFalse(Window.objects.exists())


class UpstreamTests(SustainTestCase):
    def setUp(self):
        self.source = actions.create_source(self.mia, self.acme, name="am")
        self.host = cmdb.create_config_item(
            self.root, organization=self.acme, name="acme-host", kind=ConfigItem.Kind.SERVER
        )
        self.database = cmdb.create_config_item(
            self.root, organization=self.acme, name="acme-db", kind=ConfigItem.Kind.DATABASE
        )
        self.api_item = cmdb.create_config_item(
            self.root, organization=self.acme, name="acme-api", kind=ConfigItem.Kind.SERVICE
        )
        cmdb.relate(self.root, self.api_item, self.database, "depends_on")
        cmdb.relate(self.root, self.database, self.host, "runs_on")
        cmdb.relate(self.root, self.host, self.api_item, "depends_on")  # a cycle: walks stop

    def fire(self, item, fingerprint):
        return actions.receive(
            self.source,
            Signal(
                fingerprint=fingerprint,
                state="firing",
                name=f"Down {item.name}",
                starts_at=datetime(2026, 12, 7, 9, tzinfo=UTC),
                config_item=item,
            ),
        )

    def test_downstream_alerts_join_the_upstream_incident_as_children(self):
        host = self.fire(self.host, "host").alert.ticket
        database = self.fire(self.database, "db").alert.ticket
        api = self.fire(self.api_item, "api").alert.ticket
        self.assertIsNone(host.parent)
        self.assertEqual(database.parent, host)
        self.assertEqual(api.parent, host)  # the nearest firing upstream incident's root
        from sustain.desk import actions as desk

        desk.transition(self.root, host, Status.RESOLVED)
        self.assertEqual(Ticket.objects.get(pk=api.pk).status, Status.RESOLVED)

    def test_an_upstream_item_of_another_customer_is_named_not_made_parent(self):
        shared = cmdb.create_config_item(
            self.root, organization=self.globex, name="globex-lb", kind=ConfigItem.Kind.SERVER
        )
        cmdb.relate(self.root, self.host, shared, "runs_on")
        globex_source = actions.create_source(self.mia, self.globex, name="am")
        upstream = actions.receive(
            globex_source,
            Signal(
                fingerprint="lb",
                state="firing",
                name="LB down",
                starts_at=timezone.now(),
                config_item=shared,
            ),
        ).alert.ticket
        mine = self.fire(self.host, "host").alert.ticket
        self.assertIsNone(mine.parent)
        self.assertIn(upstream.key, mine.description)
        self.assertEqual(mine.organization, self.acme)
