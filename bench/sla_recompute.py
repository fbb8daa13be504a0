"""Figure: seconds to recompute the SLA clocks of every open ticket after a calendar edit.

Target: 100,000 open tickets in under a minute. Run against a database filled with
`sustain demo --tickets 1000000`:  SUSTAIN_DATA_DIR=… .venv/bin/python bench/sla_recompute.py
"""

from __future__ import annotations

import time

from _sla_setup import ensure_policy

from sustain.sla.models import Clock
from sustain.sla.recompute import open_tickets, recompute_all

policy = ensure_policy()
open_count = open_tickets(None, True).count()
started = time.perf_counter()
touched = recompute_all(everything=True)
first = time.perf_counter() - started
print(f"first recompute (creates clocks): {touched} open tickets in {first:.1f} s")
# The calendar that governs the open tickets (the generated data may bring its own policy).
governing = (
    Clock.objects.filter(ticket__status__in=["new", "open", "pending"])
    .values_list("policy__calendar_id", flat=True)
    .first()
)
started = time.perf_counter()
touched = recompute_all(calendar_id=governing or policy.calendar_id)
elapsed = time.perf_counter() - started
print(
    f"recompute after a calendar edit: {touched} open tickets in {elapsed:.1f} s "
    f"({touched / elapsed:,.0f} tickets/s); clocks in table: {Clock.objects.count()}"
)
print(f"FIGURE sla_recompute_seconds={elapsed:.1f} open_tickets={open_count}")
