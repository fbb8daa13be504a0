"""Shared set-up of the duplicate-suggestion tests: open and closed tickets and bugs."""

from __future__ import annotations

from typing import Any

from sustain.bugs.models import Bug, BugTicket
from sustain.desk.models import Ticket
from tests.base import SustainTestCase


class SimilarTestCase(SustainTestCase):
    _bugs = 0

    def bug(self, title: str, description: str = "", **fields: Any) -> Bug:
        SimilarTestCase._bugs += 1
        fields.setdefault("product", self.product)
        return Bug.objects.create(
            key=f"BUG-{SimilarTestCase._bugs}", title=title, description=description, **fields
        )

    def link(self, bug: Bug, ticket: Ticket) -> None:
        BugTicket.objects.create(bug=bug, ticket=ticket)

    @staticmethod
    def keys(suggestions: list[Any]) -> list[str]:
        return [s.key for s in suggestions]
