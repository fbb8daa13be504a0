"""A PATCH naming a field the resource cannot take this way is refused, not silently ignored."""

from tests.base import SustainTestCase


class UnknownPatchFieldTests(SustainTestCase):
    def test_ticket_status_through_patch_is_refused_naming_the_field(self) -> None:
        ticket = self.open_ticket()
        answer = self.api(self.alice).patch(f"/api/v1/tickets/{ticket.key}", {"status": "closed"})
        self.assertEqual(answer.status_code, 422, answer.content)
        self.assertEqual([e["field"] for e in answer.json()["errors"]], ["status"])
        ticket.refresh_from_db()
        self.assertEqual(ticket.status, "new")

    def test_known_fields_still_apply(self) -> None:
        ticket = self.open_ticket()
        answer = self.api(self.alice).patch(f"/api/v1/tickets/{ticket.key}", {"title": "Renamed"})
        self.assertEqual(answer.status_code, 200, answer.content)
