"""Form pieces shared by the apps' admin and pages."""

from __future__ import annotations

from typing import Any

from django import forms

from sustain.core.errors import ActionError


class SecretField(forms.CharField):
    """A sealed secret (core.sealing) in a form: typed in a password field and never rendered
    back; left empty, the form keeps the stored value (see `kept_secret`)."""

    def __init__(self, *, help_text: str = "Leave empty to keep the current value.", **kwargs: Any):
        super().__init__(
            required=False,
            widget=forms.PasswordInput(render_value=False),
            help_text=help_text,
            **kwargs,
        )


def kept_secret(form: forms.ModelForm, name: str) -> str:
    """What a SecretField called `name` stands for: the value typed, or the stored one when left
    empty on an existing row ("" on a new one)."""
    value = form.cleaned_data.get(name) or ""
    if not value and form.instance.pk:
        return getattr(form.instance, name)
    return value


def add_action_error(
    form: forms.Form, exc: ActionError, aliases: dict[str, str] | None = None
) -> None:
    """Show an action's refusals, each next to the field it names, or above the form when the form
    has no such field (the action's `file` is the form's `attachment`; `aliases` names the
    others, such as an action's `priority_reason` that a form calls `reason`)."""
    names = {"file": "attachment", **(aliases or {})}
    for error in exc.errors or [{"field": None, "message": exc.message}]:
        field = names.get(error["field"] or "", error["field"])
        form.add_error(field if field in form.fields else None, error["message"])
