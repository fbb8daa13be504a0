"""The escalation rule forms at /sla/escalation: managers set rules up, agents read them."""

from django.test import Client

from sustain.accounts import actions as accounts
from sustain.accounts.models import Role
from sustain.sla import actions
from sustain.sla.models import EscalationRule
from tests.base import PASSWORD, SustainTestCase


def rule_data(**extra):
    data = {
        "name": "Breach on P1",
        "condition": "sla_breach",
        "minutes": "0",
        "metric": "resolution",
        "priority": "1",
        "urgent": "on",
        "active": "on",
        "levels": "2",
        "level-0-delay_minutes": "0",
        "level-0-notify": ["team_lead", "on_call"],
        "level-1-delay_minutes": "30",
        "level-1-raise_priority": "on",
        "level-1-notify": ["managers"],
    }
    data.update(extra)
    return data


class EscalationFormTests(SustainTestCase):
    def setUp(self):
        self.manager = Client()
        self.manager.force_login(self.mia)

    def test_a_manager_sets_up_a_rule_with_two_levels_in_order(self):
        response = self.manager.post(
            "/sla/escalation/new",
            rule_data(**{"level-1-reassign_team": str(self.service_desk.pk)}),
        )
        self.assertRedirects(response, "/sla/escalation")
        rule = EscalationRule.objects.get(name="Breach on P1")
        self.assertEqual(
            (rule.condition, rule.metric, rule.priority), ("sla_breach", "resolution", 1)
        )
        self.assertTrue(rule.urgent and rule.active)
        levels = list(rule.levels.order_by("level"))
        self.assertEqual([lv.delay_minutes for lv in levels], [0, 30])
        self.assertEqual(
            levels[0].actions,
            [{"do": "notify", "who": "team_lead"}, {"do": "notify", "who": "on_call"}],
        )
        self.assertIn({"do": "reassign", "team": self.service_desk.slug}, levels[1].actions)
        self.assertIn({"do": "raise_priority"}, levels[1].actions)
        listing = self.manager.get("/sla/escalation")
        self.assertContains(listing, "SLA breach")
        self.assertContains(listing, "after 30 min: notify the managers; reassign to Service Desk")

    def test_level_buttons_add_move_and_remove_without_saving(self):
        response = self.manager.post("/sla/escalation/new", rule_data(level_up="1"))
        self.assertEqual(response.status_code, 200)
        self.assertFalse(EscalationRule.objects.exists())
        form = response.context["levels"]
        self.assertEqual(form[0]["delay_minutes"].value(), "30")  # moved up, as typed
        self.assertEqual(form[1]["notify"].value(), ["team_lead", "on_call"])
        added = self.manager.post("/sla/escalation/new", rule_data(add_level="1"))
        self.assertEqual(len(added.context["levels"]), 3)
        removed = self.manager.post("/sla/escalation/new", rule_data(remove_level="0"))
        self.assertEqual(len(removed.context["levels"]), 1)
        self.assertContains(removed, 'value="Breach on P1"')

    def test_refusals_name_each_field_and_keep_what_was_typed(self):
        response = self.manager.post(
            "/sla/escalation/new",
            rule_data(
                name="",
                condition="whenever",
                **{"level-1-delay_minutes": "-5", "level-0-notify": []},
            ),
        )
        self.assertEqual(response.status_code, 422)
        form, levels = response.context["form"], response.context["levels"]
        self.assertIn("name", form.errors)
        self.assertIn("condition", form.errors)
        self.assertIn("delay_minutes", levels[1].errors)
        self.assertIn("Choose at least one thing", str(levels[0].non_field_errors()))
        self.assertContains(response, 'value="-5"', status_code=422)
        self.assertFalse(EscalationRule.objects.exists())

    def test_the_actions_refusal_lands_beside_the_watchers_widget(self):
        # A rule for every customer: a scoped agent may not watch its tickets.
        scoped = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam Scoped",
            organization=self.provider,
            role=Role.AGENT,
            password=PASSWORD,
            serves_all_organizations=False,
        )
        response = self.manager.post(
            "/sla/escalation/new", rule_data(**{"level-1-watchers": [scoped.email]})
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("watchers", response.context["levels"][1].errors)
        self.assertContains(response, "cannot watch", status_code=422)

    def test_a_duplicate_name_is_refused_on_the_name(self):
        self.manager.post("/sla/escalation/new", rule_data())
        response = self.manager.post("/sla/escalation/new", rule_data())
        self.assertEqual(response.status_code, 422)
        self.assertIn("name", response.context["form"].errors)

    def test_edit_disable_enable_and_delete(self):
        self.manager.post("/sla/escalation/new", rule_data())
        rule = EscalationRule.objects.get()
        page = self.manager.get(f"/sla/escalation/{rule.pk}")
        self.assertContains(page, 'value="Breach on P1"')
        self.assertEqual(len(page.context["levels"]), 2)
        edited = self.manager.post(
            f"/sla/escalation/{rule.pk}",
            rule_data(
                name="Unassigned desk tickets",
                condition="unassigned",
                minutes="20",
                metric="",
                team=str(self.service_desk.pk),
                levels="1",
            ),
        )
        self.assertRedirects(edited, "/sla/escalation")
        rule.refresh_from_db()
        self.assertEqual(
            (rule.name, rule.condition, rule.minutes), ("Unassigned desk tickets", "unassigned", 20)
        )
        self.assertEqual(rule.team, self.service_desk)
        self.assertEqual(rule.levels.count(), 1)
        self.manager.post(f"/sla/escalation/{rule.pk}/active")
        rule.refresh_from_db()
        self.assertFalse(rule.active)
        self.manager.post(f"/sla/escalation/{rule.pk}/active", {"active": "on"})
        rule.refresh_from_db()
        self.assertTrue(rule.active)
        listing = self.manager.get("/sla/escalation")
        self.assertContains(listing, 'hx-confirm="Delete the escalation rule')
        self.manager.post(f"/sla/escalation/{rule.pk}/delete", headers={"HX-Request": "true"})
        self.assertFalse(EscalationRule.objects.exists())


class EscalationAccessTests(SustainTestCase):
    def setUp(self):
        self.rule = actions.create_escalation_rule(
            self.root,
            name="Globex breach",
            condition="sla_breach",
            organization=self.globex,
            levels=[{"delay_minutes": 0, "actions": [{"do": "notify", "who": "managers"}]}],
        )

    def client_for(self, user):
        client = Client()
        client.force_login(user)
        return client

    def test_an_agent_reads_rules_but_may_not_change_them(self):
        agent = self.client_for(self.bob)
        self.assertContains(agent.get("/sla/escalation"), "Globex breach")
        self.assertNotContains(agent.get("/sla/escalation"), "New rule")
        detail = agent.get(f"/sla/escalation/{self.rule.pk}")
        self.assertContains(detail, "after 0 min: notify the managers")
        self.assertNotContains(detail, "rule-form")
        self.assertEqual(agent.get("/sla/escalation/new").status_code, 403)
        self.assertEqual(agent.post("/sla/escalation/new", rule_data()).status_code, 403)
        self.assertEqual(
            agent.post(f"/sla/escalation/{self.rule.pk}", rule_data()).status_code, 403
        )
        self.assertEqual(agent.post(f"/sla/escalation/{self.rule.pk}/delete").status_code, 403)
        self.assertEqual(agent.post(f"/sla/escalation/{self.rule.pk}/active").status_code, 403)
        self.assertTrue(EscalationRule.objects.filter(pk=self.rule.pk, active=True).exists())

    def test_a_customer_is_refused(self):
        customer = self.client_for(self.carol)
        self.assertEqual(customer.get("/sla/escalation").status_code, 403)
        self.assertEqual(customer.post("/sla/escalation/new", rule_data()).status_code, 403)
        self.assertEqual(customer.get(f"/sla/escalation/{self.rule.pk}").status_code, 403)

    def test_an_agent_serving_another_customer_does_not_see_the_rule(self):
        scoped = accounts.create_user(
            self.root,
            email="sam@northwind.test",
            name="Sam Scoped",
            organization=self.provider,
            role=Role.AGENT,
            password=PASSWORD,
            serves_all_organizations=False,
        )
        scoped.served_organizations.add(self.acme)
        client = self.client_for(scoped)
        self.assertNotContains(client.get("/sla/escalation"), "Globex breach")
        self.assertEqual(client.get(f"/sla/escalation/{self.rule.pk}").status_code, 404)
        self.assertEqual(client.post(f"/sla/escalation/{self.rule.pk}/delete").status_code, 404)

    def test_a_customer_the_manager_may_not_pick_is_refused_on_the_field(self):
        manager = self.client_for(self.mia)
        response = manager.post(
            "/sla/escalation/new", rule_data(organization=str(self.provider.pk))
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("organization", response.context["form"].errors)
