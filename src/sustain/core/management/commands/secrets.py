"""`sustain secrets new-key | rotate | check`: the keys that seal secrets at rest.

Rotating a key:

    sustain secrets new-key --install     # the key file: new key first, the old ones kept
    # (or with SUSTAIN_SEALING_KEYS: `sustain secrets new-key`, put it first in the list)
    sustain secrets rotate                # every sealed column re-sealed with the first key
    sustain secrets rotate --drop-old-keys  # ... and the key file keeps the current key only
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from sustain.core import sealing


class Command(BaseCommand):
    help = "Make, rotate and check the keys that seal secrets at rest."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        new = sub.add_parser("new-key", help="Print a new sealing key.")
        new.add_argument(
            "--install",
            action="store_true",
            help="Put it first in the key file (the old keys stay, to open older values).",
        )
        rotate = sub.add_parser("rotate", help="Re-seal every sealed value with the first key.")
        rotate.add_argument(
            "--drop-old-keys",
            action="store_true",
            help="Afterwards, keep only the current key in the key file.",
        )
        sub.add_parser("check", help="Open every sealed value; report those that do not open.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(**options)
        except sealing.SealingError as exc:
            raise CommandError(str(exc)) from None

    def _new_key(self, install: bool = False, **_: Any) -> None:
        key = Fernet.generate_key().decode()
        if not install:
            self.stdout.write(key)
            return
        if sealing.configured_keys()[1] == "SUSTAIN_SEALING_KEYS":
            raise CommandError(
                "The keys come from SUSTAIN_SEALING_KEYS: put a new key (sustain secrets "
                "new-key) first in that list instead."
            )
        path = sealing.key_file()
        keys = sealing.read_key_file(path) if path.exists() else []
        sealing.write_key_file(path, [key, *keys])
        self.stdout.write(f"New current key installed in {path}; now run `sustain secrets rotate`.")

    def _rotate(self, drop_old_keys: bool = False, **_: Any) -> None:
        keys, where = sealing.configured_keys()
        sealing.fernet()  # refuse a malformed key before touching a row
        total = 0
        with transaction.atomic():  # all columns re-sealed, or none
            for model, field in sealing.sealed_fields():
                place = sealing.location(model, field)
                changed = sealing.reseal_column(connection, *place, sealing.reseal)
                total += changed
                self.stdout.write(f"{model._meta.label}.{field.name}: {changed} re-sealed")
        self.stdout.write(f"{total} values re-sealed with the first key from {where}.")
        if not drop_old_keys:
            if len(keys) > 1:
                self.stdout.write("The older keys open nothing now and may be removed.")
            return
        if where == "SUSTAIN_SEALING_KEYS":
            self.stdout.write("Remove the older keys from SUSTAIN_SEALING_KEYS yourself.")
            return
        sealing.write_key_file(sealing.key_file(), keys[:1])
        self.stdout.write(f"{where} now holds the current key only.")

    def _check(self, **_: Any) -> None:
        bad = []
        for model, field in sealing.sealed_fields():
            what = f"{model._meta.label}.{field.name}"
            for pk, stored in sealing.stored_values(connection, *sealing.location(model, field)):
                try:
                    sealing.unseal(stored, f"{what} of row {pk}")
                except sealing.SealingError as exc:
                    bad.append(str(exc))
        for line in bad:
            self.stderr.write(line)
        if bad:
            raise CommandError(f"{len(bad)} sealed values do not open.")
        self.stdout.write("Every sealed value opens with the configured keys.")
