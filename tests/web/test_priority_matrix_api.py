from sustain.desk.models import Priority
from tests.base import SustainTestCase


class PriorityMatrixApiTests(SustainTestCase):
    def test_admin_changes_a_cell_and_new_tickets_follow_it(self):
        response = self.api(self.root).client.put(
            "/api/v1/priority-matrix",
            '[{"impact": 3, "urgency": 3, "priority": 2}]',
            content_type="application/json",
            headers=self.api(self.root).headers,
        )
        self.assertEqual(response.status_code, 200, response.content)
        cell = next(c for c in response.json() if (c["impact"], c["urgency"]) == (3, 3))
        self.assertEqual(cell["priority"], 2)
        ticket = self.open_ticket(self.carol, impact=3, urgency=3)
        self.assertEqual(ticket.priority, Priority.P2)

    def test_agents_read_the_matrix_but_cannot_change_it(self):
        api = self.api(self.alice)
        self.assertEqual(len(api.get("/api/v1/priority-matrix").json()), 9)
        response = api.client.put(
            "/api/v1/priority-matrix",
            '[{"impact": 1, "urgency": 1, "priority": 4}]',
            content_type="application/json",
            headers=api.headers,
        )
        self.assertEqual(response.status_code, 403)

    def test_a_cell_out_of_range_names_the_field(self):
        api = self.api(self.root)
        response = api.client.put(
            "/api/v1/priority-matrix",
            '[{"impact": 1, "urgency": 7, "priority": 1}]',
            content_type="application/json",
            headers=api.headers,
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("urgency", response.json()["errors"][0]["field"])
