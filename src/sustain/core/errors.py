"""Errors raised by actions; every door (API, web, e-mail, CLI) turns them into its own answer."""

from __future__ import annotations

from collections.abc import Iterable


class ActionError(Exception):
    """A refused operation, with the HTTP status that describes it and the fields at fault."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, errors: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or ([{"field": field, "message": message}] if field else [])


class Invalid(ActionError):
    status = 422


class NotFound(ActionError):
    status = 404


class Forbidden(ActionError):
    status = 403


class Conflict(ActionError):
    status = 409


def refuse_unknown(
    changes: Iterable[str], allowed: Iterable[str], message: str = "Cannot change {names}."
) -> None:
    """422 when `changes` names a field outside `allowed`, on the first such field.

    `message` says it in the caller's words: `{names}` is every unknown field (sorted, comma
    separated), `{first}` the first of them.
    """
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise Invalid(message.format(names=", ".join(unknown), first=unknown[0]), field=unknown[0])
