"""Creating, changing and removing repositories (administrators); the webhook secret is
write-only: events and answers say whether one is set, never what it is."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from django.db import transaction

from sustain.accounts.actions import require_admin
from sustain.bugs.models import Repository
from sustain.cmdb.models import Product
from sustain.core import events
from sustain.core.errors import Conflict, Invalid, refuse_unknown

SECRET_MIN = 16
PATTERNS_MAX = 50
FIELDS = (
    "name",
    "product",
    "provider",
    "url",
    "path",
    "default_branch",
    "branch_patterns",
    "webhook_secret",
)


def snapshot(repository: Repository) -> dict[str, Any]:
    return {
        "name": repository.name,
        "product": repository.product.slug if repository.product else None,
        "provider": repository.provider,
        "url": repository.url,
        "path": repository.path,
        "default_branch": repository.default_branch,
        "branch_patterns": list(repository.branch_patterns or []),
        "has_secret": bool(repository.webhook_secret),
    }


def _text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(f"{field} must be text.", field=field)
    value = value.strip()
    if required and not value:
        raise Invalid(f"{field} is required.", field=field)
    if len(value) > limit:
        raise Invalid(f"{field} is longer than {limit} characters.", field=field)
    if "\x00" in value:
        raise Invalid(f"{field} may not contain NUL characters.", field=field)
    return value


def _validate(repository: Repository, changes: dict[str, Any]) -> None:
    """Check every change, then set it on `repository` (not saved)."""
    refuse_unknown(changes, FIELDS, "Unknown field {first}.")
    for name, check in _CHECKS.items():  # in this order, so the first error is always the same
        if name in changes:
            setattr(repository, name, check(repository, changes[name]))


def _name(repository: Repository, value: Any) -> str:
    name = _text(value, "name", 200, required=True)
    if Repository.objects.filter(name=name).exclude(pk=repository.pk).exists():
        raise Conflict(f"A repository named '{name}' exists.", field="name")
    return name


def _product(repository: Repository, value: Any) -> Product | None:
    if value is not None and not isinstance(value, Product):
        raise Invalid("product must be a product.", field="product")
    return value


def _provider(repository: Repository, value: Any) -> str:
    provider = value or Repository.Provider.LOCAL
    if provider not in Repository.Provider.values:
        choices = ", ".join(Repository.Provider.values)
        raise Invalid(f"provider must be one of {choices}.", field="provider")
    return str(provider)


def _url(repository: Repository, value: Any) -> str:
    url = _text(value, "url", 500)
    if url and not url.startswith(("https://", "http://")):
        raise Invalid("url must start with https:// or http://.", field="url")
    return url


def _path(repository: Repository, value: Any) -> str:
    path = _text(value, "path", 500)
    if path and not os.path.isabs(path):
        raise Invalid("path must be an absolute path on the server.", field="path")
    return path


def _default_branch(repository: Repository, value: Any) -> str:
    branch = _text(value, "default_branch", 200, required=True)
    if any(c.isspace() for c in branch):
        raise Invalid("default_branch may not contain spaces.", field="default_branch")
    return branch


def _webhook_secret(repository: Repository, value: Any) -> str:
    secret = _text(value, "webhook_secret", 200)
    if secret and len(secret) < SECRET_MIN:
        raise Invalid(
            f"webhook_secret must be at least {SECRET_MIN} characters (or empty to refuse pushes).",
            field="webhook_secret",
        )
    return secret


_CHECKS: dict[str, Callable[[Repository, Any], Any]] = {
    "name": _name,
    "product": _product,
    "provider": _provider,
    "url": _url,
    "path": _path,
    "default_branch": _default_branch,
    "branch_patterns": lambda repository, value: _patterns(value),
    "webhook_secret": _webhook_secret,
}


def _patterns(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise Invalid("branch_patterns must be a list of patterns.", field="branch_patterns")
    if len(value) > PATTERNS_MAX:
        raise Invalid(f"At most {PATTERNS_MAX} branch patterns.", field="branch_patterns")
    patterns: list[str] = []
    for item in value:
        pattern = _text(item, "branch_patterns", 200, required=True)
        if any(c.isspace() for c in pattern):
            raise Invalid(f"'{pattern}' contains spaces.", field="branch_patterns")
        if pattern not in patterns:
            patterns.append(pattern)
    return patterns


def create_repository(actor: Any, *, name: str, **fields: Any) -> Repository:
    require_admin(actor)
    repository = Repository()
    _validate(repository, {"name": name, **fields})
    with transaction.atomic():
        repository.save()
        events.record(
            repository,
            "repository.created",
            actor=actor,
            after=snapshot(repository),
            is_public=False,
        )
    return repository


def update_repository(actor: Any, repository: Repository, **changes: Any) -> Repository:
    require_admin(actor)
    before = snapshot(repository)
    secret_before = repository.webhook_secret
    _validate(repository, changes)
    old, new = events.changes(before, snapshot(repository))
    if repository.webhook_secret != secret_before and "has_secret" not in new:
        old["secret"], new["secret"] = "(set)", "(changed)"  # a rotation, without the values
    if not new:
        return repository
    with transaction.atomic():
        repository.save()
        events.record(
            repository, "repository.updated", actor=actor, before=old, after=new, is_public=False
        )
    return repository


def delete_repository(actor: Any, repository: Repository) -> None:
    """Remove a repository with its commits and their links to bugs (the bugs stay as they
    are: a fix recorded stays recorded on the bug's timeline)."""
    require_admin(actor)
    with transaction.atomic():
        events.record(
            repository,
            "repository.deleted",
            actor=actor,
            before=snapshot(repository),
            is_public=False,
        )
        repository.delete()
