"""One base class with named actors, so every test reads like a story.

- alice: an agent, lead of the Service Desk team
- bob: her teammate
- mia: a manager; root: an administrator
- carol: a customer at Acme; cathy: her colleague at Acme
- dave: a customer of another organization (Globex), the outsider
"""

from __future__ import annotations

import json
from typing import Any

from django.test import Client, TestCase

from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, Role, User
from sustain.cmdb import actions as cmdb
from sustain.cmdb.models import ConfigItem
from sustain.desk import actions as desk
from sustain.desk.models import Ticket

PASSWORD = "correct-horse-battery-staple"


class SustainTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.provider = Organization.objects.create(
            name="Northwind", slug="northwind", is_provider=True
        )
        cls.root = User.objects.create_superuser(
            "root@northwind.test", PASSWORD, organization=cls.provider
        )
        cls.acme = accounts.create_organization(cls.root, name="Acme", slug="acme")
        cls.globex = accounts.create_organization(cls.root, name="Globex", slug="globex")

        def person(email: str, name: str, org: Organization, role: str = Role.CUSTOMER) -> User:
            return accounts.create_user(
                cls.root, email=email, name=name, organization=org, role=role, password=PASSWORD
            )

        cls.alice = person("alice@northwind.test", "Alice Agent", cls.provider, Role.AGENT)
        cls.bob = person("bob@northwind.test", "Bob Teammate", cls.provider, Role.AGENT)
        cls.mia = person("mia@northwind.test", "Mia Manager", cls.provider, Role.MANAGER)
        cls.carol = person("carol@acme.test", "Carol Customer", cls.acme)
        cls.cathy = person("cathy@acme.test", "Cathy Colleague", cls.acme)
        cls.dave = person("dave@globex.test", "Dave Outsider", cls.globex)
        cls.service_desk = accounts.create_team(
            cls.root, name="Service Desk", lead=cls.alice, members=[cls.alice, cls.bob]
        )
        cls.product = cmdb.create_product(cls.root, name="Ledger")
        cls.version = cmdb.add_version(cls.root, cls.product, name="2.4.1")
        cls.acme_prod = cmdb.create_config_item(
            cls.root,
            organization=cls.acme,
            name="acme-prod",
            kind=ConfigItem.Kind.ENVIRONMENT,
            product=cls.product,
            version=cls.version,
        )
        cls.globex_prod = cmdb.create_config_item(
            cls.root,
            organization=cls.globex,
            name="globex-prod",
            kind=ConfigItem.Kind.ENVIRONMENT,
        )

    # --- helpers -------------------------------------------------------------------------
    def open_ticket(self, actor: User | None = None, **fields: Any) -> Ticket:
        actor = actor or self.carol
        fields.setdefault("title", "Checkout returns 502")
        return desk.open_ticket(actor, **fields)

    def token_for(self, user: User, **kwargs: Any) -> str:
        return accounts.create_token(None, user, **kwargs)[1]

    def api(self, user: User) -> ApiClient:
        return ApiClient(self.token_for(user))


class ApiClient:
    """A test client that speaks JSON with a bearer token."""

    def __init__(self, token: str):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any):
        return self.client.get(path, params, headers=self.headers)

    def _send(self, method: str, path: str, body: Any = None, headers: dict | None = None):
        return getattr(self.client, method)(
            path,
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers={**self.headers, **(headers or {})},
        )

    def post(self, path: str, body: Any = None, headers: dict | None = None):
        return self._send("post", path, body, headers)

    def patch(self, path: str, body: Any = None, headers: dict | None = None):
        return self._send("patch", path, body, headers)

    def delete(self, path: str):
        return self.client.delete(path, headers=self.headers)
