"""The same mail delivered twice at the same moment (two MX hosts, an IMAP poll and a pipe):
stored once, acted on once. PostgreSQL only, like the other concurrency tests."""

from __future__ import annotations

import threading
import unittest

from django.db import connection, connections
from django.test import TransactionTestCase

from sustain.accounts.models import Organization
from sustain.desk.models import Ticket
from sustain.mail.actions import ingest
from sustain.mail.models import DomainRoute, InboundMail
from tests.mail import mails

THREADS = 4


def at_once(work, threads: int = THREADS) -> list:
    """`work(i)` in `threads` threads started together, each on its own connection."""
    barrier = threading.Barrier(threads)
    results: list = [None] * threads
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=target, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "SQLite's in-memory test database (shared cache) refuses concurrent writers instead of "
    "queueing them; run with DATABASE_URL=postgres://… to test concurrency",
)
class ConcurrentDeliveryTests(TransactionTestCase):
    def setUp(self):
        Organization.objects.create(name="Provider", slug="provider", is_provider=True)
        acme = Organization.objects.create(name="Acme", slug="acme")
        DomainRoute.objects.create(domain="acme.test", organization=acme)

    def test_one_mail_delivered_four_times_at_once_is_one_ticket(self):
        raw = mails.plain("New Person <new@acme.test>", "Racing", "Delivered by every MX.")
        stored = at_once(lambda i: ingest(raw).pk)
        self.assertEqual(len(set(stored)), 1)
        self.assertEqual((InboundMail.objects.count(), Ticket.objects.count()), (1, 1))

    def test_first_mails_of_one_new_sender_at_once_make_one_customer(self):
        raws = [mails.plain("new@acme.test", f"Mail {i}", "Hello") for i in range(THREADS)]
        at_once(lambda i: ingest(raws[i]).status)
        self.assertEqual(
            sorted(InboundMail.objects.values_list("status", flat=True)), ["opened"] * THREADS
        )
        self.assertEqual(Ticket.objects.values("requester").distinct().count(), 1)
