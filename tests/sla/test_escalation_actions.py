"""Escalation actions carry only the keys their kind allows and name only people who may
watch."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from sustain.accounts import actions as accounts
from sustain.accounts.actions import system_actor
from sustain.accounts.models import Role
from sustain.sla import escalation
from sustain.sla.models import (
    EscalationLevel,
    EscalationRule,
)
from tests.base import SustainTestCase

RULES = "/api/v1/sla/escalation-rules"


class EscalationActionKeys(SustainTestCase):
    def setUp(self):
        self.root_api = self.api(self.root)
        self.scoped = accounts.create_user(
            self.root,
            email="greta@northwind.test",
            name="Greta Globex-only",
            organization=self.provider,
            role=Role.AGENT,
            serves_all_organizations=False,
            served_organizations=[self.globex],
        )

    def post(self, actions, **fields):
        body = {"name": "r1", "condition": "sla_breach", "levels": [{"actions": actions}]}
        return self.root_api.post(RULES, {**body, **fields})

    def assertRefused(self, response, field):
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual([e["field"] for e in response.json()["errors"]], [field])
        self.assertFalse(EscalationRule.objects.exists())
        self.assertFalse(EscalationLevel.objects.exists())

    def test_an_unknown_key_is_refused_naming_it(self):
        response = self.post([{"do": "notify", "who": "team_lead", "colour": "red"}])
        self.assertRefused(response, "levels.0.actions.0.colour")
        self.assertIn("colour", response.json()["errors"][0]["message"])

    def test_every_kind_refuses_keys_of_another_and_names_the_level_and_action(self):
        good = {"do": "notify", "who": "assignee"}
        for index, (bad, extra) in enumerate(
            (
                ({"do": "raise_priority", "who": "assignee"}, "who"),
                ({"do": "page", "team": "service-desk"}, "team"),
                ({"do": "reassign", "team": "service-desk", "users": []}, "users"),
                ({"do": "add_watchers", "users": [self.alice.email], "schedule": None}, "schedule"),
                ({"do": "notify", "who": "assignee", "DO": "page"}, "DO"),
            )
        ):
            with self.subTest(bad=bad):
                body = {
                    "name": f"r{index}",
                    "condition": "sla_breach",
                    "levels": [{"actions": [good]}, {"actions": [good, bad]}],
                }
                response = self.root_api.post(RULES, body)
                self.assertRefused(response, f"levels.1.actions.1.{extra}")

    def test_a_missing_required_key_is_named(self):
        self.assertRefused(self.post([{"do": "reassign"}]), "levels.0.actions.0.team")
        self.assertRefused(self.post([{"do": "explode"}]), "levels.0.actions.0.do")

    def test_a_patch_refuses_them_too_and_keeps_the_levels(self):
        created = self.post([{"do": "raise_priority"}])
        self.assertEqual(created.status_code, 201, created.content)
        response = self.root_api.patch(
            f"{RULES}/{created.json()['id']}",
            {"levels": [{"actions": [{"do": "raise_priority", "by": 2}]}]},
        )
        self.assertEqual(response.status_code, 422, response.content)
        self.assertEqual(response.json()["errors"][0]["field"], "levels.0.actions.0.by")
        self.assertEqual(EscalationLevel.objects.get().actions, [{"do": "raise_priority"}])

    def test_the_model_refuses_them_under_its_own_field_for_forms(self):
        level = EscalationLevel(level=1, actions=[{"do": "notify", "who": "assignee", "x": 1}])
        with self.assertRaises(ValidationError) as caught:
            level.full_clean(exclude=["rule"])
        self.assertEqual(list(caught.exception.message_dict), ["actions"])

    def test_watchers_must_exist(self):
        response = self.post([{"do": "add_watchers", "users": ["attacker@evil.example"]}])
        self.assertRefused(response, "levels.0.actions.0.users.0")

    def test_watchers_are_agents_never_customers(self):
        response = self.post(
            [{"do": "add_watchers", "users": [self.alice.email, self.carol.email]}],
            organization="acme",
        )
        self.assertRefused(response, "levels.0.actions.0.users.1")

    def test_watchers_serve_the_rules_organization(self):
        on_acme = self.post(
            [{"do": "add_watchers", "users": [self.scoped.email]}], organization="acme"
        )
        self.assertRefused(on_acme, "levels.0.actions.0.users.0")
        on_all = self.post([{"do": "add_watchers", "users": [self.scoped.email]}])
        self.assertRefused(on_all, "levels.0.actions.0.users.0")
        on_globex = self.post(
            [{"do": "add_watchers", "users": [self.scoped.email]}], organization="globex"
        )
        self.assertEqual(on_globex.status_code, 201, on_globex.content)

    def test_a_row_written_behind_validation_adds_no_customer_at_firing(self):
        rule = EscalationRule.objects.create(name="old", condition="sla_breach")
        level = EscalationLevel.objects.create(
            rule=rule,
            level=1,
            actions=[
                {
                    "do": "add_watchers",
                    "users": [self.cathy.email, self.scoped.email, self.bob.email],
                }
            ],
        )
        ticket = self.open_ticket(self.carol)  # an Acme ticket
        self.assertTrue(escalation.fire(level, ticket.pk, "c", timezone.now(), system_actor()))
        self.assertEqual(list(ticket.watchers.all()), [self.bob])
