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
