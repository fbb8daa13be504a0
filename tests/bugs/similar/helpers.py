"""Shared set-up of the duplicate-suggestion tests: open and closed tickets and bugs."""

from __future__ import annotations

from typing import Any

from sustain.bugs import actions as bug_actions
from sustain.bugs.models import Bug, BugTicket
from sustain.desk.models import Ticket
from tests.base import SustainTestCase


class SimilarTestCase(SustainTestCase):
    _bugs = 0

    @classmethod
    def bug(cls, title: str, description: str = "", **fields: Any) -> Bug:
        """An open bug reported through the action (which keeps its title's words for the
        suggestions); one in another status written as it is, as the bulk loaders do."""
        fields.setdefault("product", cls.product)
        if "status" not in fields:
            return bug_actions.create_bug(cls.alice, title=title, description=description, **fields)
        SimilarTestCase._bugs += 1
        return Bug.objects.create(
            key=f"BUG-{SimilarTestCase._bugs}", title=title, description=description, **fields
        )

    def link(self, bug: Bug, ticket: Ticket) -> None:
        BugTicket.objects.create(bug=bug, ticket=ticket)

    @staticmethod
    def keys(suggestions: list[Any]) -> list[str]:
        return [s.key for s in suggestions]
