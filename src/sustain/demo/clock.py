"""The demo's clock: the demo world's history is made by the real actions at past instants.

Every action reads the time itself (`timezone.now()`, field defaults) and the SLA engine, the
escalation sweep and the outbox act on what it reads: a ticket opened "three days ago" must be
opened with the clock showing three days ago, or its clocks, events and breaches would not
agree with each other. Writing the history first and back-dating the rows afterwards would
mean rewriting timestamps on a dozen tables behind the domain rules; setting the process's
clock back while the actions run is the one back-dating that keeps every rule in force.
`time-machine` does that (the process's clock only; nothing outside is touched), and is used
nowhere but in this package.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import time_machine


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Run the block with the clock standing still at `moment` (an aware datetime)."""
    with time_machine.travel(moment, tick=False):
        yield
