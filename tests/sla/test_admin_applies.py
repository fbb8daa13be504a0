"""A policy or calendar added or changed in the Django admin applies to open tickets."""

from sustain.sla.models import Calendar, Clock, Policy
from tests.base import SustainTestCase


class AdminAppliesTests(SustainTestCase):
    def setUp(self):
        self.calendar = Calendar.objects.create(name="Around the clock", always=True)
        self.first = self.open_ticket(self.carol, title="first")
        self.second = self.open_ticket(self.carol, title="second")
        self.client.force_login(self.root)

    def test_a_policy_added_in_the_admin_gives_open_tickets_clocks(self):
        self.assertFalse(Clock.objects.exists())
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/admin/sla/policy/add/",
                {
                    "name": "Standard",
                    "order": "100",
                    "active": "on",
                    "calendar": str(self.calendar.pk),
                    "kind": "",
                    "warn_percent": "75",
                    "pause_statuses": '["pending"]',
                    "targets-TOTAL_FORMS": "1",
                    "targets-INITIAL_FORMS": "0",
                    "targets-0-priority": "3",
                    "targets-0-metric": "resolution",
                    "targets-0-minutes": "240",
                },
            )
        self.assertEqual(response.status_code, 302, response.content[:3000])
        policy = Policy.objects.get(name="Standard")
        self.assertEqual(
            set(Clock.objects.filter(policy=policy).values_list("ticket__title", flat=True)),
            {"first", "second"},
        )

    def test_a_calendar_changed_in_the_admin_recomputes_its_tickets(self):
        from sustain.sla.models import RecomputeRun, Target

        policy = Policy.objects.create(name="Standard", calendar=self.calendar)
        Target.objects.create(policy=policy, priority=3, metric="resolution", minutes=60)
        with self.captureOnCommitCallbacks(execute=True):
            self.open_ticket(self.carol, title="third")
            response = self.client.post(
                f"/admin/sla/calendar/{self.calendar.pk}/change/",
                {
                    "name": "Around the clock",
                    "timezone": "UTC",
                    "hours": '{"mon": [["09:00", "17:00"]]}',
                    "holidays-TOTAL_FORMS": "0",
                    "holidays-INITIAL_FORMS": "0",
                },
            )
        self.assertEqual(response.status_code, 302)
        run = RecomputeRun.objects.get(reason="Calendar Around the clock changed")
        self.assertIsNotNone(run.finished_at)
        self.assertEqual(run.total, 1)  # the one ticket measured under this calendar

    def test_the_policies_list_edits_order_and_activity_through_the_actions(self):
        from sustain.sla.models import RecomputeRun

        policy = Policy.objects.create(name="Standard", calendar=self.calendar, active=False)
        response = self.client.post(
            "/admin/sla/policy/",
            {
                "form-TOTAL_FORMS": "1",
                "form-INITIAL_FORMS": "1",
                "form-0-id": str(policy.pk),
                "form-0-order": "5",
                "form-0-active": "on",
                "_save": "Save",
            },
        )
        self.assertEqual(response.status_code, 302)
        policy.refresh_from_db()
        self.assertEqual((policy.order, policy.active), (5, True))
        self.assertTrue(RecomputeRun.objects.filter(reason="Policy Standard changed").exists())


class LostRecomputeTests(SustainTestCase):
    """A run whose task never reached a worker (or whose worker died) is taken over."""

    def test_the_sweep_takes_over_a_run_nobody_started(self):
        from datetime import timedelta

        from django.utils import timezone

        from sustain.sla import recompute
        from sustain.sla.models import RecomputeRun, Target

        calendar = Calendar.objects.create(name="Always", always=True)
        self.open_ticket(self.carol, title="waiting")
        policy = Policy.objects.create(name="Late", calendar=calendar)  # behind the actions
        Target.objects.create(policy=policy, priority=3, metric="resolution", minutes=60)
        run = RecomputeRun.objects.create(reason="Policy Late added", everything=True)
        self.assertEqual(recompute.resume_stale(), 0)  # a moment old: its task may yet come
        RecomputeRun.objects.filter(pk=run.pk).update(
            created_at=timezone.now() - timedelta(minutes=2)
        )
        self.assertEqual(recompute.resume_stale(), 1)
        self.assertTrue(Clock.objects.filter(ticket__title="waiting", policy=policy).exists())
        run.refresh_from_db()
        self.assertEqual((run.total, run.done), (1, 1))
        self.assertEqual(recompute.run(run.pk), 0)  # the late task finds it claimed
        self.assertEqual(recompute.resume_stale(), 0)

    def test_the_page_shows_how_far_a_run_has_come_and_polls_until_done(self):
        from django.utils import timezone

        from sustain.sla.models import RecomputeRun

        RecomputeRun.objects.create(
            reason="Policy Gold added",
            everything=True,
            total=400,
            done=120,
            started_at=timezone.now(),
            beat_at=timezone.now(),
        )
        self.client.force_login(self.alice)  # an agent: the progress, not what changed
        page = self.client.get("/sla/calendars").content.decode()
        self.assertIn("<strong>120 of 400</strong> open tickets", page)
        self.assertNotIn("Policy Gold", page)
        self.client.force_login(self.mia)
        self.assertIn('hx-trigger="every 2s"', page)
        RecomputeRun.objects.update(done=400, finished_at=timezone.now())
        done = self.client.get("/sla/recompute").content.decode()
        self.assertIn("Clocks recomputed after “Policy Gold added”: 400 open tickets", done)
        self.assertNotIn("hx-trigger", done)
