"""Figure: seconds for one SLA sweep (warnings and breaches) over every open ticket's clocks.

Target: under 2 seconds with one million tickets of which about 100,000 are open. Prints the
steady-state sweep (nothing new due: the query alone) and a sweep that acts on N due clocks.
Run after bench/sla_recompute.py has given the open tickets their clocks.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta

from _sla_setup import ensure_policy
from django.utils import timezone

from sustain.core import outbox
from sustain.sla import sweep
from sustain.sla.models import Clock

ensure_policy()
due_now = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
now = timezone.now()
running = Clock.objects.filter(state=Clock.State.RUNNING)
print(f"running clocks: {running.count()}")

# Make the backlog of long-breached clocks part of the past, then make `due_now` clocks due.
with outbox.paused():
    started = time.perf_counter()
    backlog = sweep.sweep(now)
    print(
        f"catch-up sweep of the generated backlog: {backlog} in {time.perf_counter() - started:.1f} s"
    )
ids = list(running.values_list("id", flat=True)[:due_now])
Clock.objects.filter(id__in=ids).update(
    state=Clock.State.RUNNING,
    due_at=now + timedelta(seconds=30),
    warn_at=now + timedelta(seconds=10),
    warned_at=None,
    breached_at=None,
)

started = time.perf_counter()
idle = sweep.sweep(now)
idle_seconds = time.perf_counter() - started
print(f"steady-state sweep (nothing due): {idle} in {idle_seconds * 1000:.1f} ms")

started = time.perf_counter()
with outbox.paused():
    acted = sweep.sweep(now + timedelta(minutes=1))
busy_seconds = time.perf_counter() - started
print(
    f"sweep acting on {due_now} due clocks: warned {acted[0]}, breached {acted[1]} in {busy_seconds:.2f} s"
)
print(
    f"FIGURE sla_sweep_idle_ms={idle_seconds * 1000:.1f} sla_sweep_{due_now}_due_s={busy_seconds:.2f}"
)
