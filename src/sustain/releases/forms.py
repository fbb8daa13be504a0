"""Form parsing for the release pages; the rules themselves live in actions."""

from __future__ import annotations

from django import forms

from sustain.bugs.models import Repository
from sustain.cmdb.models import Product
from sustain.releases.models import Kind, ReleaseChange, Status


class ReleaseForm(forms.Form):
    product = forms.ModelChoiceField(queryset=Product.objects.all())
    version = forms.CharField(max_length=60, help_text="Semantic version, e.g. 8.1.3.")
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.PATCH)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    planned_for = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Planned for"
    )
    repository = forms.ModelChoiceField(queryset=Repository.objects.all(), required=False)
    from_tag = forms.CharField(max_length=200, required=False, label="From tag")
    to_tag = forms.CharField(max_length=200, required=False, label="To tag")


class EditForm(forms.Form):
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    known_issues = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Known issues"
    )
    planned_for = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Planned for"
    )
    repository = forms.ModelChoiceField(queryset=Repository.objects.all(), required=False)
    from_tag = forms.CharField(max_length=200, required=False, label="From tag")
    to_tag = forms.CharField(max_length=200, required=False, label="To tag")


class TransitionForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    reason = forms.CharField(required=False, max_length=2000)


class ApproveForm(forms.Form):
    reason = forms.CharField(required=False, max_length=2000, label="Override reason")


class BugForm(forms.Form):
    bug = forms.CharField(max_length=20, label="Bug key")


class ChangeForm(forms.Form):
    kind = forms.ChoiceField(choices=ReleaseChange.Kind.choices)
    title = forms.CharField(max_length=300)
    description = forms.CharField(required=False, max_length=10_000)
    is_public = forms.BooleanField(required=False, label="In the customer notes")


class NotesForm(forms.Form):
    customer_notes = forms.CharField(required=False, max_length=100_000)
    internal_notes = forms.CharField(required=False, max_length=100_000)
