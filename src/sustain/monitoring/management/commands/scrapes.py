"""`sustain scrapes [--once] [--seconds N] [--concurrency N]`: run the scrape scheduler in the
foreground, as a process of its own (the worker runs the same loop in a thread; see
scrape_runs), or `--once`: scrape what is due now and stop. Several of these, and the workers,
share the due jobs safely: each is claimed by one of them."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from sustain.monitoring import scrape_runs


class Command(BaseCommand):
    help = "Scrape due scrape jobs until stopped (SIGTERM or Ctrl-C finish the runs in flight)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Scrape what is due, then stop.")
        parser.add_argument("--seconds", type=float, default=None, help="Stop after this long.")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            help="Scrapes at once (SUSTAIN_SCRAPE_CONCURRENCY).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self.stdout.write(f"{scrape_runs.run_due()} scrapes.")
            return
        keep_going = threading.Event()
        keep_going.set()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: keep_going.clear())
        scheduler = scrape_runs.Scheduler(options["concurrency"], own_connections=True)
        ran = scheduler.run(keep_going=keep_going, seconds=options["seconds"])
        self.stdout.write(f"{ran} scrapes.")
