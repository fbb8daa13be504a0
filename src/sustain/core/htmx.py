"""The in-place controls of the agent pages (htmx): a small form posted, an action run, and the
page's part answered again, with the refusal shown in it (netbox `utilities/htmx.py`).

Each page says how it answers (its panel, its section, a trigger); this is the part they share:
the form's first problem or the action's refusal becomes the `error` the answer shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpResponse

from sustain.core.errors import ActionError
from sustain.core.forms import add_action_error


def first_error(form: forms.Form) -> str:
    """The form's first problem as `field: message`."""
    name, errors = next(iter(form.errors.items()))
    return f"{name}: {errors[0]}"


def run(
    form: forms.Form,
    apply: Callable[[dict[str, Any]], Any],
    answer: Callable[[str], HttpResponse],
) -> HttpResponse:
    """Validate `form`, then `apply(cleaned_data)` (an action); `answer(error)` either way, with
    "" when it went through."""
    if not form.is_valid():
        return answer(first_error(form))
    try:
        apply(form.cleaned_data)
    except ActionError as exc:
        return answer(exc.message)
    return answer("")


def run_form(
    form: forms.Form,
    apply: Callable[[dict[str, Any]], Any],
    answer: Callable[[forms.Form], HttpResponse],
    aliases: dict[str, str] | None = None,
) -> HttpResponse:
    """As `run`, but `answer(form)` gets the form itself: every problem beside its field (the
    action's refusal too, by the field it names), and what was typed, to show again."""
    if form.is_valid():
        try:
            apply(form.cleaned_data)
        except ActionError as exc:
            add_action_error(form, exc, aliases)
    return answer(form)


def field_errors(form: forms.Form | None) -> dict[str, list[str]]:
    """A form's errors by field for a template (which cannot read `__all__`: it is `form`)."""
    if form is None:
        return {}
    return {
        ("form" if name == "__all__" else name): [str(e) for e in errs]
        for name, errs in form.errors.items()
    }
