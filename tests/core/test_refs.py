"""core.refs: every lookup from outside goes through visible(); a row the actor may not see
answers exactly as one that does not exist, through every door (id, slug, e-mail)."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from sustain.accounts import actions as accounts
from sustain.accounts import refs as account_refs
from sustain.accounts.models import Team, User
from sustain.cmdb import refs as cmdb_refs
from sustain.core import refs
from sustain.core.errors import Invalid, refuse_unknown
from tests.base import SustainTestCase

MISSING_ID = 987654


class ResolverTests(SustainTestCase):
    def refused(self, call: Any) -> tuple[str, list[dict]]:
        with self.assertRaises(Invalid) as caught:
            call()
        self.assertEqual(caught.exception.status, 422)
        return caught.exception.message, caught.exception.errors

    def test_a_customer_cannot_resolve_another_organizations_user_by_id_or_email(self) -> None:
        for ref in (self.dave.pk, str(self.dave.pk), self.dave.email, self.dave.email.upper()):
            message, errors = self.refused(
                lambda ref=ref: account_refs.user(self.carol, ref, "requester")
            )
            self.assertEqual(message, f"No user '{ref}'.")
            self.assertEqual(errors, [{"field": "requester", "message": message}])
        # The same words as for nobody at all.
        message, _ = self.refused(lambda: account_refs.user(self.carol, MISSING_ID, "requester"))
        self.assertEqual(message, f"No user '{MISSING_ID}'.")
        # Her colleague, through either door, and everyone for staff.
        self.assertEqual(account_refs.user(self.carol, self.cathy.email, "requester"), self.cathy)
        self.assertEqual(account_refs.user(self.carol, self.cathy.pk, "requester"), self.cathy)
        self.assertEqual(account_refs.user(self.alice, self.dave.email, "requester"), self.dave)

    def test_a_customer_cannot_resolve_a_team_by_id_or_slug(self) -> None:
        team = self.service_desk
        for ref in (team.pk, str(team.pk), team.slug):
            message, errors = self.refused(lambda ref=ref: account_refs.team(self.carol, ref))
            self.assertEqual(message, f"No team '{ref}'.")
            self.assertEqual(errors[0]["field"], "team")
        self.assertEqual(account_refs.team(self.alice, team.slug), team)
        self.assertEqual(account_refs.team(self.alice, team.pk), team)

    def test_a_customer_cannot_resolve_another_organizations_item(self) -> None:
        item = self.globex_prod
        for ref in (item.pk, str(item.pk)):
            message, _ = self.refused(lambda ref=ref: cmdb_refs.config_item(self.carol, ref))
            self.assertEqual(message, f"No configuration item {ref}.")
        message, _ = self.refused(lambda: cmdb_refs.config_item(self.carol, MISSING_ID))
        self.assertEqual(message, f"No configuration item {MISSING_ID}.")
        self.assertEqual(cmdb_refs.config_item(self.carol, self.acme_prod.pk), self.acme_prod)
        self.assertEqual(cmdb_refs.config_item(self.alice, item.pk), item)

    def test_an_agent_sees_only_the_organizations_served(self) -> None:
        bob = User.objects.get(pk=self.bob.pk)
        bob.serves_all_organizations = False  # now he serves his own organization only
        bob.save(update_fields=["serves_all_organizations"])
        self.assertIsNone(
            refs.find(bob, User.objects.all(), self.dave.email, by=("email__iexact",))
        )
        self.assertIsNone(refs.find(bob, User.objects.all(), self.dave.pk, by=("pk",)))
        self.assertEqual(refs.find(bob, User.objects.all(), self.alice.pk, by=("pk",)), self.alice)

    def test_inactive_or_anonymous_actors_find_nothing(self) -> None:
        User.objects.filter(pk=self.cathy.pk).update(is_active=False)
        cathy = User.objects.get(pk=self.cathy.pk)
        self.assertIsNone(refs.find(cathy, User.objects.all(), self.carol.pk, by=("pk",)))
        self.assertIsNone(refs.find(None, User.objects.all(), self.carol.pk, by=("pk",)))

    def test_lookups_are_tried_in_order_and_pk_only_for_ids(self) -> None:
        numeric = accounts.create_team(self.root, name="Year", slug=str(MISSING_ID))
        other = accounts.create_team(self.root, name="Other", slug="other")
        teams = Team.objects.all()
        # An id that names a team wins over a slug that looks like one.
        self.assertEqual(refs.find(self.alice, teams, other.pk, by=("pk", "slug")), other)
        # No team has that id: the slug is tried next.
        self.assertEqual(refs.find(self.alice, teams, str(MISSING_ID)), numeric)
        # A slug is never read as an id, and "slug" before "pk" looks at the slug first.
        self.assertIsNone(refs.find(self.alice, teams, "other", by=("pk",)))
        self.assertEqual(refs.find(self.alice, teams, str(MISSING_ID), by=("slug", "pk")), numeric)
        # Digits that are no BIGINT are no id (and no server error).
        self.assertIsNone(refs.find(self.alice, teams, "9" * 30, by=("pk",)))
        self.assertIsNone(refs.find(self.alice, teams, "٣", by=("pk",)))

    def test_empty_references_and_required_ones(self) -> None:
        self.assertIsNone(account_refs.user(self.alice, None, "assignee"))
        self.assertIsNone(account_refs.user(self.alice, "", "assignee"))
        message, errors = self.refused(lambda: account_refs.required_user(self.alice, "", "w"))
        self.assertEqual(message, "An e-mail address or user id is required.")
        self.assertEqual(errors[0]["field"], "w")

    def test_a_message_may_be_a_function_of_the_reference(self) -> None:
        self.product.name = "Ledger {ref} {0}"  # braces in a name do not break the message
        message, _ = self.refused(lambda: cmdb_refs.component(self.alice, self.product, "nope"))
        self.assertEqual(message, "Ledger {ref} {0} has no component 'nope'.")

    def test_resolve_or_404_hides_what_the_actor_may_not_see(self) -> None:
        organizations = self.globex._meta.model.objects.all()
        for ref in (self.globex.pk, self.globex.slug, MISSING_ID):
            with self.assertRaises(Http404):
                refs.resolve_or_404(self.carol, organizations, ref)
        self.assertEqual(refs.resolve_or_404(self.carol, organizations, "acme"), self.acme)
        self.assertEqual(refs.resolve_or_404(self.mia, organizations, self.globex.pk), self.globex)


class ResolverDoorTests(SustainTestCase):
    """Through the API: the answer for another organization's row is the answer for none."""

    def test_a_customer_opening_a_ticket_cannot_name_an_outsider(self) -> None:
        api = self.api(self.carol)
        for ref in (str(self.dave.pk), self.dave.email, str(MISSING_ID), "nobody@example.test"):
            body = {"title": "Broken", "watchers": [], "requester": ref}
            answer = api.post("/api/v1/tickets", body)
            self.assertEqual(answer.status_code, 422, answer.content)
            errors = answer.json()["errors"]
            self.assertEqual(errors, [{"field": "requester", "message": f"No user '{ref}'."}])

    def test_another_organization_is_not_found_by_id_or_slug(self) -> None:
        api = self.api(self.carol)
        for ref in (self.globex.pk, self.globex.slug, MISSING_ID):
            answer = api.get(f"/api/v1/organizations/{ref}")
            self.assertEqual(answer.status_code, 404, (ref, answer.content))
        self.assertEqual(api.get("/api/v1/organizations/acme").status_code, 200)

    def test_a_team_is_not_found_by_a_customer_by_id_or_slug(self) -> None:
        api = self.api(self.carol)
        team = self.service_desk
        for ref in (team.pk, team.slug, MISSING_ID):
            self.assertEqual(api.get(f"/api/v1/teams/{ref}").status_code, 404, ref)
        self.assertEqual(self.api(self.alice).get(f"/api/v1/teams/{team.slug}").status_code, 200)


class RefuseUnknownTests(SustainTestCase):
    def test_the_callers_words_name_every_unknown_field_or_the_first(self) -> None:
        refuse_unknown({"name": 1}, {"name"})
        with self.assertRaises(Invalid) as caught:
            refuse_unknown({"b": 1, "a": 2, "name": 3}, {"name"})
        self.assertEqual(caught.exception.message, "Cannot change a, b.")
        self.assertEqual(
            caught.exception.errors, [{"field": "a", "message": "Cannot change a, b."}]
        )
        with self.assertRaises(Invalid) as caught:
            refuse_unknown(["z", "y"], ["x"], "{first} cannot be changed here.")
        self.assertEqual(caught.exception.message, "y cannot be changed here.")
