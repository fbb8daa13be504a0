"""Bug actions racing each other (PostgreSQL only, like the other concurrency tests): impact
counts stay exact and a fixing commit seen by several pushes at once is recorded once."""

from __future__ import annotations

import unittest

from django.db import connection
from django.test import TransactionTestCase

from sustain.accounts.models import Organization, Role, User
from sustain.bugs import actions as bugs
from sustain.bugs.models import Bug, BugTicket, Commit, Repository
from sustain.cmdb.models import Product
from sustain.core.events import for_target
from sustain.desk import actions as desk
from tests.mail.test_concurrency import THREADS, at_once


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "SQLite's in-memory test database refuses concurrent writers; run with DATABASE_URL=postgres://…",
)
class ConcurrentBugTests(TransactionTestCase):
    def setUp(self):
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
        at_once(
            lambda i: (
                bugs.link_ticket(self.agent, Bug.objects.get(pk=self.bug.pk), self.tickets[i]).pk
            )
        )
        self.bug.refresh_from_db()
        self.assertEqual(BugTicket.objects.filter(bug=self.bug).count(), THREADS)
        self.assertEqual((self.bug.incident_count, self.bug.organization_count), (THREADS, THREADS))

    def test_one_commit_seen_by_several_pushes_at_once_is_recorded_once(self):
        changed = at_once(
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
