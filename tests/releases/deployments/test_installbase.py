"""The install base: affected environments and organizations, pending updates, shipped."""

from __future__ import annotations

from sustain.cmdb.models import ConfigItem
from sustain.releases.deployments import installbase
from sustain.releases.models import Status
from tests.releases.deployments.base import DeploymentTestCase


class AffectedEnvironmentsTests(DeploymentTestCase):
    def setUp(self):
        # acme-prod runs 2.4.1 (base); more environments on other versions.
        self.acme_test = self.environment(self.acme, "acme-test", "2.5.0")
        self.globex_ledger = self.environment(self.globex, "globex-ledger", "2.4.3")
        self.globex_old = self.environment(self.globex, "globex-old", "2.3.9")
        self.unknown = self.environment(self.globex, "globex-unknown", None)

    def names(self, bug):
        return [e.name for e in installbase.affected_environments(bug)]

    def test_no_lines_and_no_affected_versions_affect_nothing(self):
        self.assertEqual(self.names(self.bug()), [])
        self.assertEqual(list(installbase.affected_organizations(self.bug())), [])

    def test_listed_affected_versions(self):
        bug = self.bug(affected=("2.4.1", "2.3.9"))
        self.assertEqual(self.names(bug), ["acme-prod", "globex-old"])
        self.assertEqual(
            [o.slug for o in installbase.affected_organizations(bug)], ["acme", "globex"]
        )

    def test_an_affected_line_without_a_fix_covers_every_version_of_the_line(self):
        bug = self.bug()
        self.line(bug, "2.4")
        self.assertEqual(self.names(bug), ["acme-prod", "globex-ledger"])

    def test_versions_from_the_fix_on_are_clean(self):
        bug = self.bug()
        self.line(bug, "2.4", "fixed", fixed_version="2.4.2")
        self.assertEqual(self.names(bug), ["acme-prod"])

    def test_introduced_in_leaves_older_versions_out(self):
        bug = self.bug()
        self.line(bug, "2.4", introduced_in="2.4.2")
        self.assertEqual(self.names(bug), ["globex-ledger"])

    def test_a_backport_after_the_next_minor_is_ordered_by_version(self):
        """8.0.1-style backport: 2.4.4 released after 2.5.0 fixes the 2.4 line only; 2.5.0
        (its own line, still affected) keeps the bug; older versions of 2.4 stay affected."""
        bug = self.bug()
        self.release("2.5.0")
        self.release("2.4.4", fixes=(bug,))  # released later, a lower version
        self.line(bug, "2.4", "fixed")  # no fixed_version written: the release tells
        self.line(bug, "2.5", "fix_planned", planned_version="2.5.1")
        self.assertEqual(self.names(bug), ["acme-prod", "acme-test", "globex-ledger"])
        self.environment(self.acme, "acme-patched", "2.4.4")
        self.assertNotIn("acme-patched", self.names(bug))

    def test_unaffected_lines_and_other_products_are_left_out(self):
        bug = self.bug()
        self.line(bug, "2.4", "unaffected")
        self.assertEqual(self.names(bug), [])
        other = self.bug(product=self.other_product())
        self.assertEqual(self.names(other), [])

    def test_retired_environments_run_nothing(self):
        bug = self.bug(affected=("2.3.9",))
        ConfigItem.objects.filter(pk=self.globex_old.pk).update(status="retired")
        self.assertEqual(self.names(bug), [])

    def test_prerelease_sorts_below_its_release(self):
        bug = self.bug()
        self.line(bug, "2.5", "fixed", fixed_version="2.5.0")
        self.environment(self.acme, "acme-rc", "2.5.0-rc.1")
        self.assertEqual(self.names(bug), ["acme-rc"])

    def test_query_count_does_not_grow_with_environments(self):
        bug = self.bug()
        self.line(bug, "2.4", "fixed", fixed_version="2.4.3")
        for i in range(20):
            self.environment(self.globex, f"globex-{i}", "2.4.1")
        with self.assertNumQueries(5):
            rows = list(installbase.affected_environments(bug))
            self.assertEqual(len(rows), 21)
            [r.organization.name for r in rows]

    def other_product(self):
        from sustain.cmdb.models import Product

        return Product.objects.create(name="Other", slug="other")


class PendingUpdatesTests(DeploymentTestCase):
    def test_released_versions_above_the_environments_in_semver_order(self):
        self.release("2.4.0")  # below
        self.release("2.5.0")
        self.release("2.4.3")
        self.release("2.4.2")
        self.release("2.4.4", Status.TESTING)  # not out yet
        self.release("2.6.0", Status.WITHDRAWN)
        updates = installbase.pending_updates(self.acme_prod)
        self.assertEqual([u.release.name for u in updates], ["2.4.2", "2.4.3", "2.5.0"])

    def test_fixes_for_bugs_the_organization_reported_are_marked(self):
        ours = self.bug("Invoices print twice")
        theirs = self.bug("Globex report is slow")
        seen_here = self.bug("Login loops", environment=self.acme_prod)
        self.link(ours, self.open_ticket(self.carol))
        self.link(theirs, self.open_ticket(self.dave))
        self.release("2.4.2", fixes=(ours, theirs))
        self.release("2.4.3", fixes=(seen_here,))
        self.release("2.4.5")
        updates = installbase.pending_updates(self.acme_prod)
        self.assertEqual([u.fix_count for u in updates], [2, 1, 0])
        self.assertEqual(
            [[b.key for b in u.reported] for u in updates], [[ours.key], [seen_here.key], []]
        )
        self.assertTrue(updates[0].fixes_reported)
        self.assertFalse(updates[2].fixes_reported)

    def test_nothing_pending_without_a_version(self):
        self.release("2.4.2")
        env = self.environment(self.acme, "acme-new", None)
        self.assertEqual(installbase.pending_updates(env), [])

    def test_query_count_is_fixed(self):
        for name in ("2.4.2", "2.4.3", "2.4.4", "2.5.0"):
            bug = self.bug(f"Bug of {name}")
            self.link(bug, self.open_ticket(self.carol))
            self.release(name, fixes=(bug,))
        self.acme_prod.refresh_from_db()
        env = ConfigItem.objects.select_related("product", "version").get(pk=self.acme_prod.pk)
        with self.assertNumQueries(3):
            updates = installbase.pending_updates(env)
        self.assertEqual(len(updates), 4)

    def test_behind_counts(self):
        self.release("2.4.2")
        self.release("2.5.0")
        latest = self.environment(self.acme, "acme-latest", "2.5.0")
        counts = installbase.behind_counts([self.acme_prod, latest])
        self.assertEqual(counts, {self.acme_prod.pk: 2, latest.pk: 0})


class ShippedTests(DeploymentTestCase):
    def test_fixed_and_shipped_are_apart(self):
        bug = self.bug()
        self.line(bug, "2.4", "fixed", fixed_version="2.4.2")
        release = self.release("2.4.2", fixes=(bug,))
        self.assertEqual(installbase.shipped_to(bug), [])
        deployment = self.deploy(release, self.acme_prod)
        shipped = installbase.shipped_to(bug)
        self.assertEqual(
            [(s.environment.name, s.release.name) for s in shipped], [("acme-prod", "2.4.2")]
        )
        self.assertEqual(shipped[0].deployment, deployment)

    def test_a_rollback_or_a_downgrade_unships(self):
        from sustain.releases.deployments import actions

        bug = self.bug()
        release = self.release("2.4.2", fixes=(bug,))
        deployment = self.deploy(release, self.acme_prod)
        actions.roll_back_deployment(self.alice, deployment, "broke")
        self.assertEqual(installbase.shipped_to(bug), [])
        self.deploy(release, self.acme_prod)
        self.assertEqual(len(installbase.shipped_to(bug)), 1)
        ConfigItem.objects.filter(pk=self.acme_prod.pk).update(version=self.ver("2.4.0"))
        self.assertEqual(installbase.shipped_to(bug), [])

    def test_a_later_version_still_counts_unless_it_is_affected(self):
        bug = self.bug()
        self.line(bug, "2.4", "fixed")
        self.line(bug, "2.5", "affected")
        release = self.release("2.4.2", fixes=(bug,))
        self.deploy(release, self.acme_prod)
        self.deploy(self.release("2.4.3"), self.acme_prod)
        self.assertEqual(len(installbase.shipped_to(bug)), 1)
        self.deploy(self.release("2.5.0"), self.acme_prod)
        self.assertEqual(installbase.shipped_to(bug), [])
