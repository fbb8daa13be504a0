"""Real threads racing on a real database, on PostgreSQL and on SQLite.

PostgreSQL: each thread has its own connection to the test database. SQLite: the test
database lives in shared-cache memory, whose table locks fail at once instead of waiting, so
the race runs on a copy in a file opened as Sustain opens its own (WAL, IMMEDIATE
transactions, the busy timeout): `RaceTestCase` copies the database there after setUp and
points every thread, the test's own included, at the copy.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path

from django.db import connection, connections
from django.test import Client, TransactionTestCase

THREADS = 4


class RaceTestCase(TransactionTestCase):
    """A TransactionTestCase whose `at_once()` runs real threads against one database."""

    file_copy: dict | None = None
    file_name = "race.sqlite3"  # the copy's name in its folder

    def setUp(self) -> None:
        super().setUp()
        self.addCleanup(self._back_to_memory)

    def _use_file_copy(self) -> None:
        if connection.vendor != "sqlite" or self.file_copy is not None:
            return
        memory = connections["default"]
        memory.ensure_connection()
        folder = tempfile.mkdtemp(prefix="sustain-race-")
        path = str(Path(folder) / self.file_name)
        target = sqlite3.connect(path)
        memory.connection.backup(target)
        # WAL before any thread opens it: threads switching the journal mode themselves
        # race for the exclusive lock that needs, and one fails with "database is locked".
        target.execute("PRAGMA journal_mode=WAL")
        target.close()
        self.file_copy = {**memory.settings_dict, "NAME": path}
        self._memory, self._folder = memory, folder
        connections["default"] = self._open_copy()

    def use_file_copy(self) -> str | None:
        """From now on the test database is a file that other processes can open too (SQLite;
        the test's own connection moves to it): its path. None on PostgreSQL, where the test
        database is already shared."""
        self._use_file_copy()
        return self.file_copy["NAME"] if self.file_copy is not None else None

    def _open_copy(self):
        return type(self._memory)(dict(self.file_copy), alias="default")

    def _back_to_memory(self) -> None:
        if self.file_copy is None:
            return
        connections["default"].close()
        connections["default"] = self._memory
        self.file_copy = None
        shutil.rmtree(self._folder, ignore_errors=True)

    def at_once(self, work, threads: int = THREADS) -> list:
        """`work(i)` in `threads` threads started together, each on its own connection.
        Returns each thread's result, or the exception it raised."""
        self._use_file_copy()
        barrier = threading.Barrier(threads)
        results: list = [None] * threads

        def target(i: int) -> None:
            if self.file_copy is not None:
                connections["default"] = self._open_copy()
            try:
                barrier.wait()
                results[i] = work(i)
            except Exception as exc:  # the test looks at it
                results[i] = exc
            finally:
                connections.close_all()

        pool = [threading.Thread(target=target, args=(i,)) for i in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(timeout=60)
        return results

    def patch_at_once(self, url: str, bodies: list[dict], token: str) -> list:
        """Each of `bodies` PATCHed to `url` at once through the API; the status codes."""
        return self.at_once(
            lambda i: (
                Client()
                .patch(
                    url,
                    bodies[i],
                    content_type="application/json",
                    headers={"Authorization": f"Bearer {token}"},
                )
                .status_code
            ),
            threads=len(bodies),
        )
