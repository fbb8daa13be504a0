"""Form parsing for the bug pages; the rules themselves live in the actions."""

from __future__ import annotations

from django import forms

from sustain.accounts.models import Team, User
from sustain.bugs.models import LineStatus, Severity, Status
from sustain.cmdb.models import Product
from sustain.core.models import Priority


def _names(text: str) -> list[str]:
    return [n.strip() for n in (text or "").replace(";", ",").split(",") if n.strip()]


class BugForm(forms.Form):
    """Report a bug (optionally from a ticket, whose key rides along hidden)."""

    ticket = forms.CharField(max_length=20, required=False, widget=forms.HiddenInput)
    title = forms.CharField(max_length=300, label="Summary")
    product = forms.ModelChoiceField(queryset=Product.objects.all(), required=False)
    component = forms.CharField(max_length=200, required=False, help_text="Name of a component.")
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.MAJOR)
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, initial=Priority.P3)
    affected_versions = forms.CharField(
        max_length=2000, required=False, help_text="Version names, comma-separated (2.4.1, 2.5.0)."
    )
    environment = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        label="Seen on environment",
        widget=forms.Select,
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False)
    steps_to_reproduce = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    expected_behaviour = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    actual_behaviour = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    assignee = forms.ModelChoiceField(queryset=User.objects.assignable(), required=False)
    attachment = forms.FileField(required=False)

    def version_names(self) -> list[str]:
        return _names(self.cleaned_data.get("affected_versions") or "")


def offer_environments(form: forms.Form, choices: list[tuple[int, str]]) -> None:
    """The environment is picked by name from those the reporter serves (never typed as an id)."""
    widget = form.fields["environment"].widget
    assert isinstance(widget, forms.Select)
    widget.choices = [("", "— none —"), *choices]


class EditForm(forms.Form):
    title = forms.CharField(max_length=300)
    component = forms.CharField(max_length=200, required=False)
    affected_versions = forms.CharField(max_length=2000, required=False)
    environment = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False)
    steps_to_reproduce = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    expected_behaviour = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    actual_behaviour = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def version_names(self) -> list[str]:
        return _names(self.cleaned_data.get("affected_versions") or "")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    reason = forms.CharField(required=False, max_length=10_000)
    version = forms.CharField(required=False, max_length=60)


class AssignForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    assignee = forms.ModelChoiceField(queryset=User.objects.assignable(), required=False)
    me = forms.BooleanField(required=False)


class ClassifyForm(forms.Form):
    severity = forms.ChoiceField(choices=Severity.choices)
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int)


class TicketForm(forms.Form):
    ticket = forms.CharField(max_length=20, label="Ticket key")


class DuplicateForm(forms.Form):
    original = forms.CharField(max_length=20, label="Original bug key")


class LineForm(forms.Form):
    line = forms.RegexField(regex=r"^\s*\d{1,9}\.\d{1,9}\s*$", max_length=20, label="Line")
    status = forms.ChoiceField(choices=LineStatus.choices)
    planned_version = forms.CharField(required=False, max_length=60)
    fixed_version = forms.CharField(required=False, max_length=60)
    introduced_in = forms.CharField(required=False, max_length=60)

    def major_minor(self) -> tuple[int, int]:
        major, minor = self.cleaned_data["line"].strip().split(".")
        return int(major), int(minor)


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    is_public = forms.ChoiceField(
        choices=[("0", "Internal"), ("1", "Public")], required=False, initial="0"
    )
    attachment = forms.FileField(required=False)

    @property
    def public(self) -> bool:
        """Bug comments are internal unless marked public."""
        return self.cleaned_data.get("is_public") == "1"
