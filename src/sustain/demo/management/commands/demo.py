"""`sustain demo [--tickets N] [--bugs N]`: the demo world, or tickets and bugs generated in bulk."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sustain.demo import world
from sustain.demo.tickets import bulk_tickets

TOUR = (
    "In the demo: SLA badges in the queues (/desk/), the SLA report (/reports/sla), an "
    "escalated P1 paging the person on call (/sla/oncall), a webhook's failed deliveries "
    "(/webhooks/), mail held for review (/mail/), environments behind on updates "
    "(/environments/)."
)


class Command(BaseCommand):
    help = "Load demo data into an empty database, or add N generated tickets (--tickets N)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tickets", type=int, default=None, help="Generate N tickets in bulk.")
        parser.add_argument(
            "--bugs",
            type=int,
            default=None,
            help="Generate N bugs in bulk (with an install base of 2,000 customers on first use).",
        )
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Load the demo world only into an empty database, then print the demo logins "
            "(what `sustain run --demo` does).",
        )

    def handle(
        self,
        *args: Any,
        tickets: int | None,
        bugs: int | None,
        no_progress: bool,
        if_empty: bool = False,
        **options: Any,
    ) -> None:
        if if_empty:
            if world.database_is_empty():
                self.stdout.write("Loading demo data…")
                world.load_world()
            self.stdout.write(
                "Demo logins (password "
                f"'{world.DEMO_PASSWORD}'): agent alice@sustain.localhost, manager "
                "mia@sustain.localhost, admin admin@sustain.localhost, customer carol@acme.example"
            )
            self.stdout.write(TOUR)
            return
        started = time.monotonic()
        for name, value in (("tickets", tickets), ("bugs", bugs)):
            if value is not None and value < 1:
                raise CommandError(f"--{name} must be at least 1.")
        if tickets is not None:
            bulk_tickets(tickets, progress=not no_progress)
            self.stdout.write(f"Generated {tickets} tickets in {time.monotonic() - started:.1f} s.")
        if bugs is not None:
            from sustain.demo.bugs import bulk_bugs

            started = time.monotonic()
            bulk_bugs(bugs, progress=not no_progress)
            self.stdout.write(f"Generated {bugs} bugs in {time.monotonic() - started:.1f} s.")
        if tickets is not None or bugs is not None:
            return
        if not world.database_is_empty():
            raise CommandError("The database already has users; demo data loads into an empty one.")
        world.load_world()
        self.stdout.write(
            f"Demo data loaded in {time.monotonic() - started:.1f} s. "
            f"Log in as alice@sustain.localhost / {world.DEMO_PASSWORD}."
        )
        self.stdout.write(TOUR)
