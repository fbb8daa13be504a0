"""POST/GET /api/v1/users: administrators create people in an organization with a role;
everyone sees only who they may see."""

from sustain.accounts.models import Role, User
from sustain.core.models import Event
from tests.base import SustainTestCase

URL = "/api/v1/users"


class CreateUserApiTests(SustainTestCase):
    def create(self, user=None, **body):
        payload = {"email": "nina@acme.test", "name": "Nina New", "organization": "acme", **body}
        return self.api(user or self.root).post(URL, payload)

    def test_an_admin_creates_a_customer_in_an_organization_named_by_slug(self):
        response = self.create(password="a-strong-passphrase-42")
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(
            {k: body[k] for k in ("email", "name", "organization", "role", "is_active")},
            {
                "email": "nina@acme.test",
                "name": "Nina New",
                "organization": "acme",
                "role": "customer",
                "is_active": True,
            },
        )
        nina = User.objects.get(email="nina@acme.test")
        self.assertTrue(nina.check_password("a-strong-passphrase-42"))
        event = Event.objects.get(target_type="accounts.user", target_id=nina.pk, verb="created")
        self.assertEqual(event.actor, self.root)

    def test_the_organization_may_be_given_by_id(self):
        response = self.create(organization=self.globex.pk, email="gil@globex.test")
        self.assertEqual(response.json()["organization"], "globex")

    def test_an_admin_creates_an_agent_in_the_provider(self):
        response = self.create(email="ava@northwind.test", organization="northwind", role="agent")
        self.assertEqual(response.status_code, 201)
        self.assertEqual(User.objects.get(email="ava@northwind.test").role, Role.AGENT)

    def test_customers_cannot_belong_to_the_provider(self):
        response = self.create(email="eve@northwind.test", organization="northwind")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "organization")
        self.assertFalse(User.objects.filter(email="eve@northwind.test").exists())

    def test_agents_cannot_belong_to_a_customer(self):
        response = self.create(role="agent")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "organization")

    def test_only_admins_create_users(self):
        for user in (self.alice, self.mia, self.carol):
            with self.subTest(user=user.email):
                self.assertEqual(self.create(user).status_code, 403)
        self.assertFalse(User.objects.filter(email="nina@acme.test").exists())

    def test_bad_fields_are_named(self):
        for body, status, field in (
            ({"organization": "nope"}, 422, "organization"),
            ({"email": "not-an-address"}, 422, "email"),
            ({"role": "overlord"}, 422, "role"),
            ({"name": ""}, 422, "name"),
            ({"password": "123"}, 422, "password"),
            ({"email": "carol@acme.test"}, 409, "email"),
            ({"email": "CAROL@ACME.TEST"}, 409, "email"),
        ):
            with self.subTest(body=body):
                response = self.create(**body)
                self.assertEqual(response.status_code, status)
                self.assertEqual(response.json()["errors"][0]["field"], field)
        self.assertEqual(User.objects.filter(organization=self.acme).count(), 2)


class ListUsersApiTests(SustainTestCase):
    def emails(self, user, **params):
        return sorted(u["email"] for u in self.api(user).get(URL, **params).json()["results"])

    def test_customers_see_only_their_organizations_people(self):
        self.assertEqual(self.emails(self.carol), ["carol@acme.test", "cathy@acme.test"])

    def test_agents_see_everyone_and_filter_by_role_or_text(self):
        self.assertEqual(len(self.emails(self.alice)), 7)
        self.assertEqual(
            self.emails(self.alice, role="customer"),
            ["carol@acme.test", "cathy@acme.test", "dave@globex.test"],
        )
        self.assertEqual(self.emails(self.alice, q="teammate"), ["bob@northwind.test"])

    def test_another_organizations_person_is_404_for_a_customer(self):
        self.assertEqual(self.api(self.carol).get(f"{URL}/{self.dave.pk}").status_code, 404)
        self.assertEqual(self.api(self.carol).get(f"{URL}/{self.cathy.pk}").status_code, 200)
