"""Statements compiled once (core.compiled): the same rows as the ORM, values bound as the ORM
binds them, and visibility kept per actor."""

from __future__ import annotations

from sustain.accounts import refs
from sustain.core import compiled
from sustain.core.errors import Invalid
from sustain.core.models import Event
from tests.base import SustainTestCase


class CompiledTests(SustainTestCase):
    def test_a_user_by_e_mail_any_case_among_those_the_actor_sees(self):
        self.assertEqual(refs.user(self.alice, "CAROL@acme.test", "requester"), self.carol)
        self.assertEqual(refs.user(self.carol, "cathy@ACME.test", "requester"), self.cathy)
        with self.assertRaises(Invalid):  # another customer's person: as if there were none
            refs.user(self.carol, "dave@globex.test", "requester")
        self.assertEqual(refs.user(self.alice, "dave@globex.test", "requester"), self.dave)

    def test_like_wildcards_in_an_address_match_only_themselves(self):
        for pattern in ("c_rol@acme.test", "%@acme.test", "carol@acme%"):
            with self.subTest(pattern), self.assertRaises(Invalid):
                refs.user(self.alice, pattern, "requester")

    def test_insert_writes_what_bulk_create_would(self):
        rows = [
            Event(target_type="desk.ticket", target_id=n, verb="x", after={"n": n}) for n in (1, 2)
        ]
        compiled.insert(rows)
        self.assertTrue(all(row.pk for row in rows))
        read = Event.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk")
        self.assertEqual([e.after for e in read], [{"n": 1}, {"n": 2}])
