"""The subscription form; the rules live in actions."""

from __future__ import annotations

from django import forms

from sustain.accounts.models import Organization, User
from sustain.core.tenancy import visible
from sustain.hooks.models import EventType


class SubscriptionForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.CharField(
        max_length=500,
        label="URL",
        help_text="A public https:// (or http://) address; a private network only where an "
        "administrator allows it.",
    )
    events = forms.MultipleChoiceField(
        choices=EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        empty_label="Every customer",
        help_text="Only this customer's tickets.",
    )
    include_internal = forms.BooleanField(required=False, label="Staff-level: internal notes too")
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = visible(Organization.objects.customers(), user)
