"""The deployment workflow: scheduled → in progress → succeeded, failed or rolled back."""

from __future__ import annotations

from sustain.cmdb.models import ConfigItem
from sustain.core.errors import Conflict, Forbidden, Invalid, NotFound
from sustain.core.events import for_target
from sustain.releases.deployments import actions
from sustain.releases.models import Deployment, Status
from tests.releases.deployments.base import DeploymentTestCase


class ScheduleTests(DeploymentTestCase):
    def test_staff_schedule_a_released_version(self):
        release = self.release("2.4.2")
        deployment = actions.schedule_deployment(
            self.alice, release=release, environment=self.acme_prod, note="night window"
        )
        self.assertEqual(deployment.status, Deployment.Status.SCHEDULED)
        self.assertEqual(deployment.organization, self.acme)
        self.assertEqual(deployment.previous_version, self.version)
        self.assertEqual(deployment.created_by, self.alice)
        verbs = [e.verb for e in for_target(deployment)]
        self.assertEqual(verbs, ["scheduled"])
        self.assertIn("deployment_scheduled", [e.verb for e in for_target(self.acme_prod)])

    def test_customers_cannot_schedule(self):
        with self.assertRaises(Forbidden):
            actions.schedule_deployment(
                self.carol, release=self.release("2.4.2"), environment=self.acme_prod
            )

    def test_the_environment_must_run_the_releases_product(self):
        with self.assertRaises(Invalid) as caught:
            actions.schedule_deployment(
                self.alice, release=self.release("2.4.2"), environment=self.globex_prod
            )
        self.assertEqual(caught.exception.errors[0]["field"], "environment")

    def test_a_retired_environment_takes_nothing(self):
        retired = self.environment(self.acme, "acme-old", "2.4.1", status="retired")
        with self.assertRaises(Invalid):
            actions.schedule_deployment(
                self.alice, release=self.release("2.4.2"), environment=retired
            )

    def test_planned_and_withdrawn_releases_are_refused(self):
        for status in (Status.PLANNED, Status.WITHDRAWN):
            release = self.release(f"2.4.{2 if status == Status.PLANNED else 3}", status)
            with self.assertRaises(Conflict) as caught:
                actions.schedule_deployment(self.alice, release=release, environment=self.acme_prod)
            self.assertIn(status, caught.exception.message)
            self.assertEqual(caught.exception.errors[0]["field"], "release")

    def test_a_release_in_testing_goes_to_internal_environments_only(self):
        release = self.release("2.4.2", Status.TESTING)
        with self.assertRaises(Conflict):
            actions.schedule_deployment(self.alice, release=release, environment=self.acme_prod)
        staging = self.environment(self.provider, "staging", "2.4.1")
        deployment = actions.schedule_deployment(self.alice, release=release, environment=staging)
        self.assertEqual(deployment.status, "scheduled")

    def test_approved_releases_reach_customers(self):
        release = self.release("2.4.2", Status.APPROVED)
        actions.schedule_deployment(self.alice, release=release, environment=self.acme_prod)

    def test_the_same_release_is_not_scheduled_twice_on_one_environment(self):
        release = self.release("2.4.2")
        actions.schedule_deployment(self.alice, release=release, environment=self.acme_prod)
        with self.assertRaises(Conflict):
            actions.schedule_deployment(self.alice, release=release, environment=self.acme_prod)

    def test_an_agent_not_serving_the_organization_does_not_find_it(self):
        self.bob.serves_all_organizations = False
        self.bob.save()
        if self.bob.served_organization_ids():
            self.skipTest("bob serves organizations in this set-up")
        with self.assertRaises(NotFound):
            actions.schedule_deployment(
                self.bob, release=self.release("2.4.2"), environment=self.acme_prod
            )


class MoveTests(DeploymentTestCase):
    def setUp(self):
        self.release_242 = self.release("2.4.2")
        self.deployment = actions.schedule_deployment(
            self.alice, release=self.release_242, environment=self.acme_prod
        )

    def test_success_sets_the_environments_version_with_an_event(self):
        started = actions.start_deployment(self.alice, self.deployment)
        self.assertEqual(started.status, "in_progress")
        self.assertIsNotNone(started.started_at)
        done = actions.succeed_deployment(self.alice, started)
        self.assertEqual(done.status, "succeeded")
        self.assertIsNotNone(done.finished_at)
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.version.name, "2.4.2")
        event = for_target(self.acme_prod).filter(verb="version_changed").get()
        self.assertEqual(event.before, {"version": "2.4.1"})
        self.assertEqual(event.after["version"], "2.4.2")
        self.assertEqual(event.actor, self.alice)
        verbs = [e.verb for e in for_target(done)]
        self.assertEqual(verbs[:3], ["scheduled", "started", "succeeded"])

    def test_rollback_returns_the_environment_to_its_previous_version(self):
        done = actions.succeed_deployment(
            self.alice, actions.start_deployment(self.alice, self.deployment)
        )
        with self.assertRaises(Invalid) as caught:
            actions.roll_back_deployment(self.alice, done, "")
        self.assertEqual(caught.exception.errors[0]["field"], "reason")
        back = actions.roll_back_deployment(self.alice, done, "Reports broke")
        self.assertEqual(back.status, "rolled_back")
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.version.name, "2.4.1")
        event = for_target(back).filter(verb="rolled_back").get()
        self.assertEqual(event.after["reason"], "Reports broke")

    def test_an_old_deployment_is_not_rolled_back_once_another_version_runs(self):
        done = actions.succeed_deployment(
            self.alice, actions.start_deployment(self.alice, self.deployment)
        )
        self.deploy(self.release("2.4.3"), self.acme_prod)
        with self.assertRaises(Conflict) as caught:
            actions.roll_back_deployment(self.alice, done, "oops")
        self.assertIn("2.4.3", caught.exception.message)

    def test_failure_keeps_the_version_and_needs_a_reason(self):
        started = actions.start_deployment(self.alice, self.deployment)
        with self.assertRaises(Invalid):
            actions.fail_deployment(self.alice, started, "  ")
        failed = actions.fail_deployment(self.alice, started, "Migration timed out")
        self.assertEqual(failed.status, "failed")
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.version.name, "2.4.1")

    def test_a_scheduled_deployment_can_be_called_off(self):
        failed = actions.fail_deployment(self.alice, self.deployment, "Customer asked to wait")
        self.assertEqual(failed.status, "failed")
        self.assertIsNone(failed.started_at)

    def test_illegal_moves_name_from_and_to(self):
        with self.assertRaises(Conflict) as caught:
            actions.succeed_deployment(self.alice, self.deployment)
        message = caught.exception.message
        self.assertIn("from scheduled to succeeded", message)
        self.assertIn("in_progress", message)
        with self.assertRaises(Conflict):
            actions.roll_back_deployment(self.alice, self.deployment, "why")
        failed = actions.fail_deployment(self.alice, self.deployment, "no")
        with self.assertRaises(Conflict) as caught:
            actions.start_deployment(self.alice, failed)
        self.assertIn("allowed: none", caught.exception.message)

    def test_a_stale_copy_cannot_move_twice(self):
        stale = Deployment.objects.get(pk=self.deployment.pk)
        actions.start_deployment(self.alice, self.deployment)
        with self.assertRaises(Conflict):
            actions.start_deployment(self.alice, stale)

    def test_one_deployment_in_progress_per_environment(self):
        other = actions.schedule_deployment(
            self.alice, release=self.release("2.4.3"), environment=self.acme_prod
        )
        actions.start_deployment(self.alice, self.deployment)
        with self.assertRaises(Conflict) as caught:
            actions.start_deployment(self.alice, other)
        self.assertIn(f"deployment {self.deployment.pk} in progress", caught.exception.message)
        self.assertEqual(caught.exception.status, 409)

    def test_the_database_refuses_a_second_deployment_in_progress(self):
        from django.db import IntegrityError, transaction

        actions.start_deployment(self.alice, self.deployment)
        other = actions.schedule_deployment(
            self.alice, release=self.release("2.4.3"), environment=self.acme_prod
        )
        with self.assertRaises(IntegrityError), transaction.atomic():
            Deployment.objects.filter(pk=other.pk).update(status="in_progress")

    def test_customers_cannot_move_deployments(self):
        with self.assertRaises(Forbidden):
            actions.start_deployment(self.carol, self.deployment)

    def test_transition_dispatches_and_refuses_unknown_statuses(self):
        with self.assertRaises(Invalid) as caught:
            actions.transition(self.alice, self.deployment, "scheduled")
        self.assertEqual(caught.exception.errors[0]["field"], "status")
        moved = actions.transition(self.alice, self.deployment, "in_progress")
        self.assertEqual(moved.status, "in_progress")

    def test_previous_version_is_taken_when_the_deployment_starts(self):
        ConfigItem.objects.filter(pk=self.acme_prod.pk).update(version=self.ver("2.4.0"))
        started = actions.start_deployment(self.alice, self.deployment)
        self.assertEqual(started.previous_version.name, "2.4.0")


class SupersededRollbackTests(DeploymentTestCase):
    def test_a_superseded_deployment_of_the_running_version_is_refused(self):
        r242, r243 = self.release("2.4.2"), self.release("2.4.3")
        first = self.deploy(r242, self.acme_prod)
        self.deploy(r243, self.acme_prod)
        again = self.deploy(r242, self.acme_prod)
        with self.assertRaises(Conflict) as caught:
            actions.roll_back_deployment(self.alice, first, "oops")
        self.assertIn(f"Deployment {again.pk}", caught.exception.message)
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.version.name, "2.4.2")
        first.refresh_from_db()
        self.assertEqual(first.status, "succeeded")

    def test_the_latest_one_rolls_back_and_then_the_one_before(self):
        r242, r243 = self.release("2.4.2"), self.release("2.4.3")
        first = self.deploy(r242, self.acme_prod)
        second = self.deploy(r243, self.acme_prod)
        actions.roll_back_deployment(self.alice, second, "Reports broke")
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.version.name, "2.4.2")
        actions.roll_back_deployment(self.alice, first, "Totals broke too")
        self.acme_prod.refresh_from_db()
        self.assertEqual(self.acme_prod.version.name, "2.4.1")
