"""Form parsing for the desk and the portal; the rules themselves live in actions."""

from __future__ import annotations

from django import forms

from sustain.accounts.models import Organization, Team, User
from sustain.cmdb.models import ConfigItem
from sustain.core.tenancy import visible
from sustain.desk.models import Kind, Level, Priority, Status, TicketLink


def choices(form: forms.Form, name: str) -> forms.ModelChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    return field


class PortalTicketForm(forms.Form):
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.INCIDENT, label="Type")
    title = forms.CharField(max_length=300, label="Summary")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False)
    affected_ci = forms.ModelChoiceField(
        queryset=ConfigItem.objects.none(), required=False, label="Affected system"
    )
    impact = forms.TypedChoiceField(choices=Level.choices, coerce=int, initial=Level.MEDIUM)
    urgency = forms.TypedChoiceField(choices=Level.choices, coerce=int, initial=Level.MEDIUM)
    attachment = forms.FileField(required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        ci_choices = visible(ConfigItem.objects.all(), user).order_by("name")
        choices(self, "affected_ci").queryset = ci_choices


class AgentTicketForm(PortalTicketForm):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none())
    requester = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    field_order = ["organization", "requester", "kind", "title", "description"]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        choices(self, "organization").queryset = visible(Organization.objects.customers(), user)
        choices(self, "requester").queryset = visible(
            User.objects.filter(role="customer"), user
        ).select_related("organization")


class ReplyForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    is_public = forms.ChoiceField(
        choices=[("1", "Public reply"), ("0", "Internal note")], required=False
    )
    attachment = forms.FileField(required=False)

    @property
    def public(self) -> bool:
        """Replies are public unless marked as an internal note."""
        return self.cleaned_data.get("is_public") != "0"


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    reason = forms.CharField(required=False, max_length=10_000)


class AssignForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    assignee = forms.ModelChoiceField(queryset=User.objects.assignable(), required=False)
    me = forms.BooleanField(required=False)


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int)
    reason = forms.CharField(required=False, max_length=300)


class SavedFilterForm(forms.Form):
    name = forms.CharField(max_length=100)
    query = forms.CharField(max_length=1000, required=False)
    shared = forms.BooleanField(required=False)


class LinkForm(forms.Form):
    target = forms.CharField(max_length=20, label="Ticket key")
    kind = forms.ChoiceField(choices=TicketLink.Kind.choices)


class ParentForm(forms.Form):
    parent = forms.CharField(max_length=20, required=False, label="Major incident key")


class TagsForm(forms.Form):
    tags = forms.CharField(max_length=1000, required=False)

    def tag_list(self) -> list[str]:
        return [t for t in self.cleaned_data["tags"].split(",") if t.strip()]


class WatchForm(forms.Form):
    on = forms.BooleanField(required=False)
