"""The policy set-up pages: a manager adds, edits, reorders and deletes SLA policies, and the
open tickets get their clocks; agents read, customers see nothing."""

from django.test import Client

from sustain.sla.models import Calendar, Clock, Policy, RecomputeRun, Target
from tests.base import SustainTestCase
from tests.sla.test_setup_calendars import ShortFailures


class PolicyPagesTests(ShortFailures, SustainTestCase):
    def setUp(self):
        self.calendar = Calendar.objects.create(name="Around the clock", always=True)
        self.manager = Client()
        self.manager.force_login(self.mia)

    def form(self, **fields):
        return {
            "name": "Acme gold",
            "active": "on",
            "calendar": str(self.calendar.pk),
            "warn_percent": "80",
            "pause_statuses": ["pending"],
            "target_3_first_response": "60",
            "target_3_resolution": "480",
            **fields,
        }

    def test_a_new_policy_applies_to_the_open_tickets(self):
        first = self.open_ticket(self.carol, title="first")
        self.open_ticket(self.dave, title="not Acme's")
        self.assertFalse(Clock.objects.exists())
        page = self.manager.get("/sla/policies/new")
        self.has(page, '<input type="checkbox" name="pause_statuses" value="pending"')
        self.has(page, " Pending</label>")
        self.has(page, "acme-prod (Acme)")  # configuration items by name and customer
        with self.captureOnCommitCallbacks(execute=True):
            response = self.manager.post(
                "/sla/policies/new",
                self.form(organization=str(self.acme.pk), kind="incident", product=""),
            )
        self.assertRedirects(response, "/sla/calendars")
        policy = Policy.objects.get()
        self.assertEqual(
            (policy.organization, policy.kind, policy.warn_percent), (self.acme, "incident", 80)
        )
        self.assertEqual(
            sorted(policy.targets.values_list("priority", "metric", "minutes")),
            [(3, "first_response", 60), (3, "resolution", 480)],
        )
        self.assertEqual(
            set(Clock.objects.values_list("ticket__title", "metric")),
            {("first", "first_response"), ("first", "resolution")},
        )
        self.assertEqual(Clock.objects.filter(ticket=first).count(), 2)
        run = RecomputeRun.objects.get()
        self.assertEqual((run.total, run.done, run.reason), (2, 2, "Policy Acme gold added"))
        progress = self.manager.get("/sla/recompute")
        self.has(progress, "2 open tickets")
        self.assertNotIn("hx-trigger", progress.content.decode())  # done: no more polling

    def test_each_refusal_names_its_field_and_keeps_what_was_typed(self):
        response = self.manager.post(
            "/sla/policies/new",
            self.form(
                name="",
                warn_percent="150",
                pause_statuses=["pending", "resolved"],
                target_1_resolution="0",
                target_2_next_update="soon",
                calendar="999",
            ),
        )
        self.assertEqual(response.status_code, 422)
        for field in (
            "name",
            "warn_percent",
            "pause_statuses",
            "calendar",
        ):
            self.has(response, f'id="id_{field}_error"', 422)
        body = response.content.decode()
        self.assertEqual(body.count('<td class="has-error">'), 2)  # the two bad targets
        self.has(response, 'name="target_3_resolution" value="480"', 422)  # kept
        self.has(response, 'value="150"', 422)
        self.assertFalse(Policy.objects.exists())

    def test_the_model_checks_are_shown_beside_their_field(self):
        Policy.objects.create(name="Acme gold", calendar=self.calendar)
        taken = self.manager.post("/sla/policies/new", self.form())
        self.has(taken, 'id="id_name_error"', 422)
        other = self.manager.post(
            "/sla/policies/new",
            self.form(
                name="Globex item",
                organization=str(self.acme.pk),
                config_item=str(self.globex_prod.pk),
            ),
        )
        self.has(other, 'id="id_config_item_error"', 422)
        self.has(other, "belongs to another organization", 422)

    def test_editing_reordering_and_deleting(self):
        first = Policy.objects.create(name="First", calendar=self.calendar, order=10)
        second = Policy.objects.create(name="Second", calendar=self.calendar, order=20)
        Target.objects.create(policy=first, priority=2, metric="resolution", minutes=90)
        edit = self.manager.get(f"/sla/policies/{first.pk}/edit")
        self.has(edit, 'name="target_2_resolution" value="90"')
        response = self.manager.post(
            f"/sla/policies/{first.pk}/edit",
            self.form(name="First", target_3_resolution="", target_3_first_response=""),
        )
        self.assertEqual(response.status_code, 302)
        self.assertFalse(first.targets.exists())
        self.manager.post(f"/sla/policies/{second.pk}/move", {"direction": "up"})
        self.assertEqual(
            list(Policy.objects.order_by("order").values_list("name", flat=True)),
            ["Second", "First"],
        )
        self.manager.post(f"/sla/policies/{second.pk}/delete")
        self.assertEqual(list(Policy.objects.values_list("name", flat=True)), ["First"])

    def test_a_policy_that_measured_tickets_is_kept(self):
        policy = Policy.objects.create(name="Measured", calendar=self.calendar)
        Target.objects.create(policy=policy, priority=3, metric="resolution", minutes=60)
        self.open_ticket(self.carol)
        response = self.manager.post(f"/sla/policies/{policy.pk}/delete", follow=True)
        self.has(response, "deactivate it instead")
        self.assertTrue(Policy.objects.exists())


class PolicyAccessTests(ShortFailures, SustainTestCase):
    def setUp(self):
        self.calendar = Calendar.objects.create(name="Around the clock", always=True)
        self.policy = Policy.objects.create(name="Standard", calendar=self.calendar)

    def test_an_agent_reads_the_policies_but_may_not_change_them(self):
        agent = Client()
        agent.force_login(self.alice)
        self.has(agent.get("/sla/calendars"), "Standard")
        self.assertEqual(agent.get("/sla/policies/new").status_code, 403)
        self.assertEqual(
            agent.post(f"/sla/policies/{self.policy.pk}/edit", {"name": "Mine"}).status_code, 403
        )
        self.assertEqual(
            agent.post(f"/sla/policies/{self.policy.pk}/move", {"direction": "up"}).status_code,
            403,
        )
        self.assertEqual(agent.post(f"/sla/policies/{self.policy.pk}/delete").status_code, 403)
        self.assertEqual(Policy.objects.get().name, "Standard")

    def test_a_customer_is_refused(self):
        customer = Client()
        customer.force_login(self.carol)
        self.assertEqual(customer.get("/sla/policies/new").status_code, 403)
        self.assertEqual(customer.get(f"/sla/policies/{self.policy.pk}/edit").status_code, 403)

    def test_another_customers_policy_is_not_found_by_a_scoped_agent_nor_offered(self):
        from sustain.accounts import actions as accounts
        from sustain.accounts.models import Role
        from tests.base import PASSWORD

        globex = Policy.objects.create(
            name="Globex only", calendar=self.calendar, organization=self.globex
        )
        scoped = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam Scoped",
            organization=self.provider,
            role=Role.AGENT,
            password=PASSWORD,
            serves_all_organizations=False,
            served_organizations=[self.acme],
        )
        client = Client()
        client.force_login(scoped)
        listing = client.get("/sla/calendars").content.decode()
        self.assertIn("Standard", listing)
        self.assertNotIn("Globex only", listing)
        self.assertEqual(client.get(f"/sla/policies/{globex.pk}/edit").status_code, 403)
