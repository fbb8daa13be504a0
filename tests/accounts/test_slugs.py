"""Slugs made from names: they fit their column, and a name that makes none asks for one."""

from __future__ import annotations

from sustain.accounts.models import Team
from tests.base import SustainTestCase


class SlugTests(SustainTestCase):
    """Found by the schemathesis run: each answered 500 (some only on PostgreSQL) before it
    was fixed."""

    def test_a_slug_made_from_a_long_name_fits_its_column(self):
        api = self.api(self.root)
        for path, name in (
            ("/api/v1/organizations", "Initech " * 25),
            ("/api/v1/teams", "Night shift " * 8),
            ("/api/v1/products", "Ledger " * 28),
        ):
            with self.subTest(path=path):
                response = api.post(path, {"name": name.strip()})
                self.assertEqual(response.status_code, 201, response.content)
                self.assertLessEqual(len(response.json()["slug"]), 60)
                self.assertFalse(response.json()["slug"].endswith("-"))

    def test_a_name_that_makes_no_slug_asks_for_one(self):
        response = self.api(self.root).post("/api/v1/teams", {"name": "!!!"})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "slug")
        self.assertFalse(Team.objects.filter(name="!!!").exists())
