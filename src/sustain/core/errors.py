"""Errors raised by actions; every door (API, web, e-mail, CLI) turns them into its own answer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


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


class Problems:
    """The refusals of several checks gathered, to answer them all at once: a form then shows
    every error beside its field after one submit, not one per submit."""

    def __init__(self) -> None:
        self.errors: list[dict] = []

    def add(self, message: str, field: str | None = None) -> None:
        self.errors.append({"field": field, "message": message})

    def check(self, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """`check(*args, **kwargs)`, or None with its refusal kept when it is Invalid."""
        try:
            return check(*args, **kwargs)
        except Invalid as exc:
            self.errors.extend(exc.errors or [{"field": None, "message": exc.message}])
            return None

    def raise_any(self) -> None:
        """One Invalid naming every field at fault, if any check refused."""
        if self.errors:
            message = " ".join(error["message"] for error in self.errors)
            raise Invalid(message, errors=self.errors)


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
