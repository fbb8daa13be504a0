"""The rest of CRUD for calendars, policies, escalation rules and on-call schedules."""

from sustain.sla.models import Calendar, EscalationRule, OnCallSchedule, Policy
from tests.base import SustainTestCase


class SlaCrudTests(SustainTestCase):
    def setUp(self):
        self.root_api = self.api(self.root)
        self.calendar = self.root_api.post(
            "/api/v1/sla/calendars", {"name": "24x7", "always": True}
        ).json()

    def test_a_calendar_in_use_cannot_be_deleted_until_its_policies_move(self):
        policy = self.root_api.post(
            "/api/v1/sla/policies",
            {
                "name": "P",
                "calendar": self.calendar["id"],
                "targets": [{"priority": 1, "metric": "resolution", "minutes": 60}],
            },
        ).json()
        self.assertEqual(
            self.root_api.delete(f"/api/v1/sla/calendars/{self.calendar['id']}").status_code, 409
        )
        self.assertEqual(
            self.root_api.delete(f"/api/v1/sla/policies/{policy['id']}").status_code, 204
        )
        self.assertEqual(
            self.root_api.delete(f"/api/v1/sla/calendars/{self.calendar['id']}").status_code, 204
        )
        self.assertFalse(Calendar.objects.exists() or Policy.objects.exists())

    def test_a_policy_that_measured_tickets_is_deactivated_not_deleted(self):
        policy = self.root_api.post(
            "/api/v1/sla/policies",
            {
                "name": "P",
                "calendar": self.calendar["id"],
                "targets": [{"priority": 3, "metric": "resolution", "minutes": 60}],
            },
        ).json()
        self.open_ticket(self.carol)
        response = self.root_api.delete(f"/api/v1/sla/policies/{policy['id']}")
        self.assertEqual(response.status_code, 409)
        self.assertIn("deactivate", response.json()["detail"])
        patched = self.root_api.patch(f"/api/v1/sla/policies/{policy['id']}", {"active": False})
        self.assertEqual(patched.json()["active"], False)

    def test_rules_are_changed_and_removed(self):
        rule = self.root_api.post(
            "/api/v1/sla/escalation-rules",
            {
                "name": "R",
                "condition": "sla_breach",
                "levels": [{"actions": [{"do": "notify", "who": "assignee"}]}],
            },
        ).json()
        patched = self.root_api.patch(
            f"/api/v1/sla/escalation-rules/{rule['id']}",
            {
                "active": False,
                "levels": [
                    {"actions": [{"do": "raise_priority"}]},
                    {"delay_minutes": 30, "actions": [{"do": "notify", "who": "managers"}]},
                ],
            },
        )
        self.assertEqual(patched.status_code, 200, patched.content)
        self.assertEqual((patched.json()["active"], len(patched.json()["levels"])), (False, 2))
        self.assertEqual(
            self.api(self.alice).delete(f"/api/v1/sla/escalation-rules/{rule['id']}").status_code,
            403,
        )
        self.assertEqual(
            self.root_api.delete(f"/api/v1/sla/escalation-rules/{rule['id']}").status_code, 204
        )
        self.assertFalse(EscalationRule.objects.exists())

    def test_the_team_lead_changes_the_rotation(self):
        created = self.root_api.post(
            "/api/v1/oncall",
            {
                "team": "service-desk",
                "name": "Desk",
                "slug": "desk",
                "participants": [self.alice.email],
                "rotation_start": "2026-01-05",
            },
        )
        self.assertEqual(created.status_code, 201, created.content)
        lead = self.api(self.alice)
        patched = lead.patch(
            "/api/v1/oncall/desk",
            {"participants": [self.bob.email, self.alice.email], "shift_hours": 12},
        )
        self.assertEqual(patched.json()["participants"], [self.bob.email, self.alice.email])
        self.assertEqual(self.api(self.bob).delete("/api/v1/oncall/desk").status_code, 403)
        self.assertEqual(lead.delete("/api/v1/oncall/desk").status_code, 204)
        self.assertFalse(OnCallSchedule.objects.exists())
