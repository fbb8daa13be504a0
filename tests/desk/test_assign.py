"""Assigning a ticket to a team and an agent: only agents who serve the customer and belong to
the team may hold it."""

from sustain.accounts import actions as accounts
from sustain.accounts.models import Role
from sustain.core.errors import Forbidden, Invalid
from sustain.core.models import Event
from sustain.desk import actions as desk
from sustain.desk.models import Status
from tests.base import SustainTestCase


class AssignTests(SustainTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.gina = accounts.create_user(
            cls.root,
            email="gina@northwind.test",
            name="Gina Globex-only",
            organization=cls.provider,
            role=Role.AGENT,
            serves_all_organizations=False,
            served_organizations=[cls.globex],
        )
        cls.oscar = accounts.create_user(
            cls.root,
            email="oscar@northwind.test",
            name="Oscar Ops",
            organization=cls.provider,
            role=Role.AGENT,
        )
        cls.ops = accounts.create_team(cls.root, name="Operations", members=[cls.oscar, cls.gina])

    def setUp(self):
        self.ticket = self.open_ticket(self.carol, title="VPN drops")

    def refused(self, **kwargs):
        with self.assertRaises(Invalid) as refused:
            desk.assign(self.alice, self.ticket, **kwargs)
        self.ticket.refresh_from_db()
        self.assertIsNone(self.ticket.assignee)
        self.assertIsNone(self.ticket.team)
        return refused.exception

    def test_assigning_an_agent_opens_the_ticket_and_makes_them_watch_it(self):
        desk.assign(self.alice, self.ticket, team=self.service_desk, assignee=self.bob)
        self.ticket.refresh_from_db()
        self.assertEqual((self.ticket.team, self.ticket.assignee), (self.service_desk, self.bob))
        self.assertEqual(self.ticket.status, Status.OPEN)
        self.assertIn(self.bob, self.ticket.watchers.all())
        event = Event.objects.get(target_id=self.ticket.pk, verb="assigned")
        self.assertEqual(
            event.after, {"status": "open", "team": "Service Desk", "assignee": "Bob Teammate"}
        )
        self.assertEqual(event.before, {"status": "new", "team": None, "assignee": None})

    def test_a_team_alone_leaves_the_ticket_new(self):
        desk.assign(self.alice, self.ticket, team=self.ops)
        self.ticket.refresh_from_db()
        self.assertEqual((self.ticket.team, self.ticket.assignee), (self.ops, None))
        self.assertEqual(self.ticket.status, Status.NEW)

    def test_the_assignee_must_belong_to_the_team(self):
        error = self.refused(team=self.ops, assignee=self.bob)
        self.assertEqual(error.errors[0]["field"], "assignee")
        self.assertEqual(error.message, "Bob Teammate is not a member of Operations.")

    def test_the_assignee_must_serve_the_customer(self):
        error = self.refused(team=self.ops, assignee=self.gina)
        self.assertEqual(error.errors[0]["field"], "assignee")
        self.assertIn("does not serve Acme", error.message)

    def test_the_assignee_must_be_an_active_agent(self):
        self.assertEqual(self.refused(assignee=self.cathy).errors[0]["field"], "assignee")
        self.bob.is_active = False
        self.bob.save()
        self.assertEqual(
            self.refused(team=self.service_desk, assignee=self.bob).errors[0]["field"], "assignee"
        )

    def test_clearing_the_assignment(self):
        desk.assign(self.alice, self.ticket, team=self.service_desk, assignee=self.alice)
        desk.assign(self.alice, self.ticket, team=None, assignee=None)
        self.ticket.refresh_from_db()
        self.assertEqual((self.ticket.team, self.ticket.assignee), (None, None))
        self.assertEqual(self.ticket.status, Status.OPEN)

    def test_customers_cannot_assign(self):
        with self.assertRaises(Forbidden):
            desk.assign(self.carol, self.ticket, assignee=self.alice)

    def test_the_api_assigns_by_email_and_team_slug(self):
        response = self.api(self.alice).patch(
            f"/api/v1/tickets/{self.ticket.key}",
            {"team": "operations", "assignee": "OSCAR@northwind.test"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            (response.json()["team"], response.json()["assignee"]),
            ("operations", "oscar@northwind.test"),
        )

    def test_the_api_keeps_the_team_when_only_the_assignee_changes(self):
        desk.assign(self.alice, self.ticket, team=self.ops, assignee=self.oscar)
        response = self.api(self.alice).patch(
            f"/api/v1/tickets/{self.ticket.key}", {"assignee": self.bob.email}
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("not a member of Operations", response.json()["detail"])
        self.ticket.refresh_from_db()
        self.assertEqual(self.ticket.assignee, self.oscar)

    def test_the_api_names_an_unknown_assignee_or_team(self):
        api = self.api(self.alice)
        for body, field in (
            ({"assignee": "nobody@x.test"}, "assignee"),
            ({"team": "nope"}, "team"),
        ):
            with self.subTest(body=body):
                response = api.patch(f"/api/v1/tickets/{self.ticket.key}", body)
                self.assertEqual(response.status_code, 422)
                self.assertEqual(response.json()["errors"][0]["field"], field)

    def test_assign_to_me_on_the_ticket_page(self):
        self.client.force_login(self.oscar)
        response = self.client.post(
            f"/desk/t/{self.ticket.key}/assign", {"me": "on"}, headers={"HX-Request": "true"}
        )
        self.assertEqual(response.status_code, 200)
        self.ticket.refresh_from_db()
        self.assertEqual((self.ticket.team, self.ticket.assignee), (self.ops, self.oscar))
