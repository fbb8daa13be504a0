"""Bug actions racing each other, with real threads on PostgreSQL and on SQLite: impact counts
stay exact, a fixing commit seen by several pushes at once is recorded once, PATCHes of
different fields at once keep every change, and of two workflow moves at once from the same
status only the one still legal passes."""

from __future__ import annotations

from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, Role, Team, User
from sustain.bugs import actions as bugs
from sustain.bugs.models import Bug, BugTicket, Commit, Repository, Severity, Status
from sustain.cmdb.models import Product
from sustain.core.errors import Conflict
from sustain.core.events import for_target
from sustain.desk import actions as desk
from tests.concurrency import THREADS, RaceTestCase

ROUNDS = 5


class ConcurrentBugTests(RaceTestCase):
    def setUp(self):
        super().setUp()
        provider = Organization.objects.create(name="Provider", slug="provider", is_provider=True)
        self.agent = User.objects.create_user(
            "agent@provider.test", None, name="Agent", organization=provider, role=Role.AGENT
        )
        self.product = Product.objects.create(name="Ledger", slug="ledger")
        self.bug = bugs.create_bug(self.agent, title="Racing", product=self.product)
        self.tickets = []
        for i in range(THREADS):
            org = Organization.objects.create(name=f"Customer {i}", slug=f"customer-{i}")
            self.tickets.append(desk.open_ticket(self.agent, title=f"T{i}", organization=org))
        repository = Repository.objects.create(name="ledger")
        self.commit = Commit.objects.create(repository=repository, sha="c" * 40, message="Fixes")

    def test_links_at_once_count_every_customer(self):
        self.at_once(
            lambda i: (
                bugs.link_ticket(self.agent, Bug.objects.get(pk=self.bug.pk), self.tickets[i]).pk
            )
        )
        self.bug.refresh_from_db()
        self.assertEqual(BugTicket.objects.filter(bug=self.bug).count(), THREADS)
        self.assertEqual((self.bug.incident_count, self.bug.organization_count), (THREADS, THREADS))

    def test_one_commit_seen_by_several_pushes_at_once_is_recorded_once(self):
        changed = self.at_once(
            lambda i: bugs.mark_fixed_by_commit(
                self.agent,
                Bug.objects.get(pk=self.bug.pk),
                self.commit,
                branch="main",
                line=(2, 4),
            )
        )
        self.assertEqual(sorted(changed), [False] * (THREADS - 1) + [True])
        self.assertEqual(for_target(self.bug).filter(verb="fixed_by_commit").count(), 1)
        self.assertEqual(self.bug.lines.count(), 1)

    def test_patches_of_different_fields_at_once_keep_every_change(self):
        team = Team.objects.create(name="Ledger team", slug="ledger-team")
        team.members.add(self.agent)
        token = accounts.create_token(None, self.agent)[1]
        bodies = [
            {"title": "New title"},
            {"steps_to_reproduce": "1. Open the ledger"},
            {"severity": Severity.CRITICAL},
            {"team": "ledger-team"},
        ]
        for r in range(ROUNDS):
            bug = bugs.create_bug(self.agent, title=f"Round {r}", product=self.product)
            url = f"/api/v1/bugs/{bug.key}"
            answers = self.patch_at_once(url, bodies, token)
            self.assertEqual(answers, [200] * len(bodies))
            fresh = Bug.objects.get(pk=bug.pk)
            self.assertEqual(
                (fresh.title, fresh.steps_to_reproduce, fresh.severity, fresh.team_id),
                ("New title", "1. Open the ledger", Severity.CRITICAL, team.pk),
                f"a change was lost on {bug.key}",
            )
            last: dict = {}
            for event in for_target(fresh):
                last.update(event.after)
            self.assertEqual(
                (last["title"], last["steps_to_reproduce"], last["severity"], last["team"]),
                ("New title", "1. Open the ledger", Severity.CRITICAL, "Ledger team"),
            )

    def test_two_moves_from_one_status_at_once_only_one_passes(self):
        for r in range(ROUNDS):
            bug = bugs.create_bug(self.agent, title=f"Round {r}", product=self.product)
            bugs.transition(self.agent, bug, Status.IN_PROGRESS)
            # Both load the bug in progress first, as two requests would; after either move
            # the other is no longer legal.
            copies = [Bug.objects.get(pk=bug.pk) for _ in range(2)]
            moves = [Status.WONT_FIX, Status.CANNOT_REPRODUCE]
            results = self.at_once(
                lambda i, c=copies, m=moves: bugs.transition(self.agent, c[i], m[i]).status,
                threads=2,
            )
            passed = [x for x in results if isinstance(x, str)]
            refused = [x for x in results if isinstance(x, Conflict)]
            self.assertEqual((len(passed), len(refused)), (1, 1), results)
            fresh = Bug.objects.get(pk=bug.pk)
            self.assertEqual(fresh.status, passed[0])
            moved = for_target(fresh).filter(before__status=Status.IN_PROGRESS)
            self.assertEqual(moved.count(), 1)
