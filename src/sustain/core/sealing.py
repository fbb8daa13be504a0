"""Secrets sealed at rest: credentials Sustain must use in clear (a mailbox's IMAP password, a
webhook's signing secret, a repository's push secret, and the DSNs and tokens to come) are kept
in the database encrypted with a key that is not in the database.

`SealedTextField` stores a Fernet token (AES-128-CBC + HMAC-SHA256, from `cryptography`) and
gives the plaintext back in Python, so code reading `mailbox.password` needs no change. The keys
come from `SUSTAIN_SEALING_KEYS` (comma-separated; the first seals, all of them open) or else from
a key file in the data directory (one key a line, the first current), created 0600 on first use.
A backup of the database alone therefore reveals no secret; the key file must be backed up too.

`sustain secrets rotate` re-seals every sealed column with the current key (see the management
command); an empty value stays empty (no secret set) so `filter(secret="")` keeps working.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull

# Every sealed value starts with this, so a clear value (an old row, a hand edit) is told from a
# sealed one without trying to decrypt it, and refused rather than taken as a secret.
PREFIX = "sealed:"


class SealingError(Exception):
    """The keys are missing or wrong, or a stored value is not sealed: never an empty secret."""


_lock = threading.Lock()
_cache: dict[tuple[Any, ...], MultiFernet] = {}


def key_file() -> Path:
    return Path(getattr(settings, "SEALING_KEY_FILE", Path(settings.DATA_DIR) / "sealing_keys"))


def _parse(raw: list[str], where: str) -> list[Fernet]:
    keys = []
    for n, key in enumerate(raw, start=1):
        try:
            keys.append(Fernet(key.strip().encode()))
        except (ValueError, TypeError):
            raise SealingError(
                f"Key {n} in {where} is not a Fernet key (32 url-safe base64-encoded bytes; "
                "make one with `sustain secrets new-key`)."
            ) from None
    return keys


def read_key_file(path: Path) -> list[str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


_file_cache: dict[Path, tuple[tuple[int, int, int], list[str]]] = {}


def _read_cached(path: Path) -> list[str]:
    """The key file, read again only when it changed (a stat per use, not a read)."""
    st = path.stat()
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    with _lock:
        cached = _file_cache.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, read_key_file(path))
            _file_cache[path] = cached
    return cached[1]


_HEADER = (
    "# Sustain's sealing keys: the first seals, every one opens. Back this file up\n"
    "# apart from the database; without it the sealed secrets cannot be read.\n"
)


def _write_private(path: Path, keys: list[str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(_HEADER + "".join(f"{key}\n" for key in keys))
    os.chmod(path, 0o600)


def write_key_file(path: Path, keys: list[str]) -> None:
    """Replace the key file, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.new")
    _write_private(tmp, keys)
    os.replace(tmp, path)


def _create_key_file(path: Path) -> None:
    """A first key, unless another process made the file first: the file appears whole and
    only once (a hard link fails if the name exists), so two workers starting together never
    seal with two different keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    _write_private(tmp, [Fernet.generate_key().decode()])
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def configured_keys() -> tuple[list[str], str]:
    """The raw keys, current first, and where they come from (for messages)."""
    from_env = [k.strip() for k in getattr(settings, "SEALING_KEYS", []) if k.strip()]
    if from_env:
        return from_env, "SUSTAIN_SEALING_KEYS"
    path = key_file()
    if not path.exists():
        _create_key_file(path)
    keys = _read_cached(path)
    if not keys:
        raise SealingError(f"The key file {path} holds no key.")
    return keys, str(path)


def check_keys(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """A system check (`sustain check`, and before `run` and `migrate` serve anything): the
    configured keys are Fernet keys. A key file not made yet is fine; first use makes it."""
    from django.core.checks import Error

    try:
        from_env = [k.strip() for k in getattr(settings, "SEALING_KEYS", []) if k.strip()]
        if from_env:
            _parse(from_env, "SUSTAIN_SEALING_KEYS")
        elif key_file().exists():
            path = key_file()
            keys = read_key_file(path)
            if not keys:
                raise SealingError(f"The key file {path} holds no key.")
            _parse(keys, str(path))
    except (SealingError, OSError) as exc:
        return [Error(str(exc), id="sustain.E001")]
    return []


def fernet() -> MultiFernet:
    raw, where = configured_keys()
    cache_key = (where, tuple(raw))
    if cache_key not in _cache:
        _cache.clear()
        _cache[cache_key] = MultiFernet(_parse(raw, where))
    return _cache[cache_key]


def seal(plaintext: str) -> str:
    if plaintext == "":
        return ""
    return PREFIX + fernet().encrypt(plaintext.encode()).decode()


def is_sealed(stored: str | None) -> bool:
    return bool(stored) and str(stored).startswith(PREFIX)


def unseal(stored: str, what: str = "a sealed value") -> str:
    if stored == "":
        return ""
    if not stored.startswith(PREFIX):
        raise SealingError(
            f"{what} is stored in clear, not sealed: run `sustain migrate`, or "
            "`sustain secrets rotate` to seal it."
        )
    f = fernet()
    try:
        return f.decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        _, where = configured_keys()
        raise SealingError(
            f"{what} cannot be opened with the sealing keys from {where}: it was sealed with "
            "another key. Restore the key file from its backup, or give the old key after the "
            "current one in SUSTAIN_SEALING_KEYS."
        ) from None


def reseal(stored: str) -> str:
    """The same secret sealed with the current key (a clear value is sealed as it is)."""
    if stored == "":
        return ""
    if not stored.startswith(PREFIX):
        return seal(stored)
    try:
        token = fernet().rotate(stored[len(PREFIX) :].encode())
    except InvalidToken:
        unseal(stored)  # raises the explanatory error
        raise
    return PREFIX + token.decode()


class SealedTextField(models.TextField):
    """Text sealed in the database, plain in Python. Only `isnull` and `exact` with "" (is a
    secret set?) can be queried: the ciphertext differs each time, so nothing else would match."""

    description = "Text sealed at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return unseal(value, f"{self.model._meta.label}.{self.name}")

    def get_prep_value(self, value: Any) -> Any:
        # Always sealed, even text that looks sealed: a secret "sealed:…" set through the API
        # must not be stored as if it were ciphertext (it would then never open).
        value = super().get_prep_value(value)
        return None if value is None else seal(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _EmptyExact
        if lookup_name == "isnull":
            return IsNull
        return None

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        kwargs.setdefault("widget", forms.PasswordInput(render_value=False))
        return super().formfield(**kwargs)


class _EmptyExact(Exact):
    def get_prep_lookup(self) -> Any:
        if self.rhs != "":
            raise FieldError(
                f"{self.lhs.target.name} is sealed: it can only be compared with '' (unset)."
            )
        return ""


def sealed_fields() -> Iterator[tuple[type[models.Model], SealedTextField]]:
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, SealedTextField):
                yield model, field


def location(model: Any, field: Any) -> tuple[str, str, str]:
    """Table, column and primary-key column of a sealed field (of a real or historical model)."""
    return str(model._meta.db_table), str(field.column), str(model._meta.pk.column)


def stored_values(connection: Any, table: str, column: str, pk: str) -> list[tuple[Any, str]]:
    """(primary key, stored text) of every non-empty value of one column, read with raw SQL:
    the ciphertext, not the field's plaintext."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {q(pk)}, {q(column)} FROM {q(table)} "
            f"WHERE {q(column)} IS NOT NULL AND {q(column)} <> ''"
        )
        return list(cursor.fetchall())


def reseal_column(
    connection: Any, table: str, column: str, pk: str, change: Callable[[str], str]
) -> int:
    """Rewrite every non-empty stored value of one column through `change`; answers how many
    rows changed."""
    q = connection.ops.quote_name
    changed = 0
    with connection.cursor() as cursor:
        for key, stored in stored_values(connection, table, column, pk):
            new = change(stored)
            if new != stored:
                cursor.execute(
                    f"UPDATE {q(table)} SET {q(column)} = %s WHERE {q(pk)} = %s", [new, key]
                )
                changed += 1
    return changed


def seal_clear_rows(app_label: str, model_name: str, field_name: str) -> Any:
    """A migration's RunPython pair that seals the clear values already in a column (and opens
    them again when the migration is reversed)."""

    def _run(change: Callable[[str], str]) -> Callable[[Any, Any], None]:
        def run(migration_apps: Any, schema_editor: Any) -> None:
            model = migration_apps.get_model(app_label, model_name)
            field = model._meta.get_field(field_name)
            reseal_column(schema_editor.connection, *location(model, field), change)

        return run

    def forwards(stored: str) -> str:
        return stored if is_sealed(stored) else seal(stored)

    def backwards(stored: str) -> str:
        return unseal(stored) if is_sealed(stored) else stored

    return _run(forwards), _run(backwards)
