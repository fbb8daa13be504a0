"""Human keys come from counters that stay unique and gap-free under concurrent creation."""

import threading
import unittest

from django.db import connection, connections, transaction
from django.test import TestCase, TransactionTestCase

from sustain.accounts.models import Organization, Role, User
from sustain.core import counters
from sustain.core.models import Counter
from sustain.desk import actions as desk

THREADS = 8
PER_THREAD = 15


def run_in_threads(work, threads: int = THREADS) -> list:
    """Run `work()` in `threads` threads at once, each on its own database connection."""
    barrier = threading.Barrier(threads)
    results: list = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def target():
        try:
            barrier.wait()
            values = work()
            with lock:
                results.extend(values)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=target) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


class CounterTests(TestCase):
    def test_values_count_up_from_the_start(self):
        self.assertEqual([counters.next_value("t") for _ in range(3)], [1001, 1002, 1003])
        self.assertEqual(counters.next_value("other", start=0), 1)

    def test_a_rolled_back_creation_does_not_leave_a_gap(self):
        counters.next_value("t")
        with self.assertRaises(RuntimeError), transaction.atomic():
            counters.next_value("t")
            raise RuntimeError("the ticket could not be saved")
        self.assertEqual(counters.next_value("t"), 1002)

    def test_reserve_hands_out_a_block(self):
        counters.next_value("t")
        first = counters.reserve("t", 10)
        self.assertEqual(first, 1002)
        self.assertEqual(counters.next_value("t"), 1012)
        self.assertEqual(counters.reserve("fresh", 5), 1001)


@unittest.skipUnless(
    connection.vendor == "postgresql",
    "SQLite's in-memory test database (shared cache) answers concurrent writers with "
    "'database table is locked' instead of waiting on the busy timeout as the WAL file in "
    "production does; run with DATABASE_URL=postgres://… to test concurrency",
)
class ConcurrentCounterTests(TransactionTestCase):
    def test_threads_get_unique_consecutive_values(self):
        def work():
            return [counters.next_value("race") for _ in range(PER_THREAD)]

        values = run_in_threads(work)
        total = THREADS * PER_THREAD
        self.assertEqual(len(values), total)
        self.assertEqual(sorted(values), list(range(1001, 1001 + total)))
        self.assertEqual(Counter.objects.get(name="race").value, 1000 + total)

    def test_threads_opening_tickets_get_unique_consecutive_keys(self):
        provider = Organization.objects.create(name="Provider", slug="p", is_provider=True)
        acme = Organization.objects.create(name="Acme", slug="acme")
        agent = User.objects.create_user(
            "agent@p.test", "x", name="Agent", organization=provider, role=Role.AGENT
        )

        def work():
            return [
                desk.open_ticket(agent, organization=acme, title="Concurrent").key
                for _ in range(PER_THREAD)
            ]

        keys = run_in_threads(work)
        total = THREADS * PER_THREAD
        self.assertEqual(len(set(keys)), total)
        numbers = sorted(int(key.split("-")[1]) for key in keys)
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + total)))
