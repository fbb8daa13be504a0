"""core.filters: the list filters every app parses the same way."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.http import QueryDict

from sustain.core.errors import Invalid
from sustain.core.filters import by_person, param_list, parse_when
from sustain.desk.models import Ticket
from tests.base import SustainTestCase


class FilterTests(SustainTestCase):
    def test_param_list_takes_repeated_and_comma_separated_values(self) -> None:
        self.assertEqual(param_list(QueryDict("s=a&s=b,c&s="), "s"), ["a", "b", "c"])
        self.assertEqual(param_list({"s": "a,b"}, "s"), ["a", "b"])
        self.assertEqual(param_list({}, "s"), [])

    def test_parse_when_reads_dates_and_times_in_utc_and_names_the_field(self) -> None:
        self.assertIsNone(parse_when("", "created_after"))
        self.assertEqual(parse_when(date(2026, 1, 5), "x").tzinfo, UTC)  # type: ignore[union-attr]
        self.assertEqual(
            parse_when("2026-01-05T09:00:00+01:00", "x"), datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        )
        with self.assertRaises(Invalid) as caught:
            parse_when("soon", "created_after")
        self.assertEqual(caught.exception.errors[0]["field"], "created_after")

    def test_by_person_reads_me_none_ids_and_addresses_of_the_fields_model(self) -> None:
        mine = self.open_ticket(self.carol, title="Mine")
        theirs = self.open_ticket(self.cathy, title="Theirs")
        tickets = Ticket.objects.filter(pk__in=[mine.pk, theirs.pk])

        def keys(ref: str) -> set[str]:
            return set(
                by_person(tickets, "requester", ref, self.carol).values_list("key", flat=True)
            )

        self.assertEqual(keys("me"), {mine.key})
        self.assertEqual(keys(str(self.cathy.pk)), {theirs.key})
        self.assertEqual(keys(self.cathy.email.upper()), {theirs.key})
        self.assertEqual(keys("nobody@example.test"), set())
        self.assertEqual(keys("9" * 30), set())  # past BIGINT: nobody, not a server error
        self.assertEqual(set(by_person(tickets, "assignee", "none", self.carol)), {mine, theirs})
