"""`sustain probes [--seconds N] [--concurrency N]`: run the probe scheduler in the foreground,
as a process of its own (the worker runs the same loop in a thread; see probe_runs). Several
of these, and the workers, share the due probes safely: each is claimed by one of them."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from sustain.monitoring import probe_runs


class Command(BaseCommand):
    help = "Run due probes until stopped (SIGTERM or Ctrl-C finish the runs in flight first)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seconds", type=float, default=None, help="Stop after this long.")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            help="Probes at once (SUSTAIN_PROBE_CONCURRENCY).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        keep_going = threading.Event()
        keep_going.set()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: keep_going.clear())
        scheduler = probe_runs.Scheduler(options["concurrency"], own_connections=True)
        ran = scheduler.run(keep_going=keep_going, seconds=options["seconds"])
        self.stdout.write(f"{ran} probe runs.")
