"""core.locking.locked_or_created: the row a lookup names, locked, or created; and remembered,
so save_changed() writes only what the action changed."""

from __future__ import annotations

from django.db import transaction

from sustain.core.locking import locked_or_created, save_changed
from sustain.core.models import Counter
from tests.base import SustainTestCase


class LockedOrCreatedTests(SustainTestCase):
    def test_created_once_then_found_and_saved_by_its_changes(self) -> None:
        with transaction.atomic():
            row, created = locked_or_created(Counter.objects.all(), {"value": 7}, name="probe")
        self.assertTrue(created)
        self.assertEqual(row.value, 7)
        with transaction.atomic():
            again, created = locked_or_created(Counter.objects.all(), {"value": 99}, name="probe")
            self.assertFalse(created)
            self.assertEqual((again.pk, again.value), (row.pk, 7))
            self.assertEqual(save_changed(again), [])  # nothing changed, nothing written
            again.value = 8
            self.assertEqual(save_changed(again), ["value"])
        self.assertEqual(Counter.objects.get(name="probe").value, 8)
