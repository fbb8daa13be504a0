"""Figure: how much more a ticket creation costs with its SLA clocks than without.

Target: at most 20 % more. Creates N tickets through the same action the API calls, once
with no policy applying and once with one, and compares the mean time per ticket.
"""

from __future__ import annotations

import sys
import time

from _sla_setup import back_on, ensure_policy, others_off

from sustain.accounts.models import Organization, User
from sustain.core import outbox
from sustain.desk import actions

count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
customer = User.objects.filter(role="customer", is_active=True).first()
assert customer is not None, "load demo data first (sustain demo)"
organization = Organization.objects.get(pk=customer.organization_id)


def run(label: str) -> float:
    with outbox.paused():
        for _ in range(20):  # warm-up
            actions.open_ticket(customer, title=f"warm-up {label}")
        started = time.perf_counter()
        for n in range(count):
            actions.open_ticket(customer, title=f"bench {label} {n}", impact=2, urgency=2)
        return (time.perf_counter() - started) / count


others = others_off()
ensure_policy(active=False)
without = run("without")
ensure_policy(active=True)
with_clocks = run("with")
ensure_policy(active=False)
back_on(others)
overhead = (with_clocks / without - 1) * 100
print(
    f"without clocks: {without * 1000:.2f} ms/ticket; with clocks: {with_clocks * 1000:.2f} ms/ticket"
)
print(
    f"FIGURE sla_create_overhead_percent={overhead:.1f} (organization {organization.slug}, {count} tickets)"
)
