"""A PATCH naming a field the resource cannot take this way is refused, not silently ignored;
null for a field that cannot be empty is refused by name, and still clears what may be cleared."""

from sustain.sla import actions as sla
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


class PartialUpdateTests(SustainTestCase):
    """Found by the schemathesis run: each answered 500 (some only on PostgreSQL) before it
    was fixed."""

    def test_null_for_a_field_that_cannot_be_empty_is_refused_by_name(self):
        rule = sla.create_escalation_rule(
            self.root,
            name="Unassigned",
            condition="unassigned",
            minutes=30,
            levels=[{"delay_minutes": 0, "actions": [{"do": "notify", "who": "team_lead"}]}],
        )
        api = self.api(self.root)
        for path, body in (
            (f"/api/v1/sla/escalation-rules/{rule.pk}", {"name": None}),
            ("/api/v1/organizations/acme", {"customers_see_all_tickets": None}),
            (f"/api/v1/config-items/{self.acme_prod.pk}", {"description": None}),
        ):
            with self.subTest(path=path):
                response = api.patch(path, body)
                self.assertEqual(response.status_code, 422)
                self.assertEqual(response.json()["errors"][0]["field"], next(iter(body)))

    def test_null_still_clears_what_may_be_cleared(self):
        ticket = self.open_ticket(affected_ci=self.acme_prod)
        response = self.api(self.alice).patch(
            f"/api/v1/tickets/{ticket.key}", {"affected_ci": None}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIsNone(response.json()["affected_ci"])
        response = self.api(self.root).patch(
            f"/api/v1/config-items/{self.acme_prod.pk}", {"product": None, "version": None}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIsNone(response.json()["product"])
