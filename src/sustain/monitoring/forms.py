"""The machine-token and maintenance-window forms; the rules live in actions."""

from __future__ import annotations

from zoneinfo import ZoneInfo, available_timezones

from django import forms

from sustain.accounts.models import Organization, User
from sustain.cmdb.models import ConfigItem
from sustain.core.tenancy import visible
from sustain.monitoring.models import Source

ZONES = sorted(available_timezones())


def _scoped(form: forms.Form, name: str, queryset) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


class MachineTokenForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), label="Customer")
    name = forms.CharField(max_length=100, help_text="Where it is used, e.g. “alertmanager-eu”.")
    source = forms.ModelChoiceField(
        queryset=Source.objects.none(),
        required=False,
        empty_label="Any Alertmanager of the customer (a source is made per receiver)",
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        _scoped(self, "organization", visible(Organization.objects.filter(is_provider=False), user))
        _scoped(self, "source", visible(Source.objects.select_related("organization"), user))

    def clean(self):
        data = super().clean() or {}
        source, organization = data.get("source"), data.get("organization")
        if (
            source is not None
            and organization is not None
            and source.organization_id != organization.pk
        ):
            self.add_error("source", "This source belongs to another customer.")
        return data


class ItemChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ConfigItem) -> str:  # type: ignore[override]
        return f"{obj.organization.name} · {obj.name}"


class WindowForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), label="Customer")
    name = forms.CharField(max_length=200)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    starts_at = forms.DateTimeField(
        label="Starts", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label="Ends", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    zone = forms.ChoiceField(choices=[(z, z) for z in ZONES], initial="UTC", label="Time zone")
    rrule = forms.CharField(
        max_length=500,
        required=False,
        label="Repeats",
        help_text="An RRULE, e.g. FREQ=WEEKLY;BYDAY=SU; empty: once.",
    )
    whole_organization = forms.BooleanField(required=False, label="Everything of this customer")
    config_items = ItemChoice(
        queryset=ConfigItem.objects.none(),
        required=False,
        label="Configuration items",
        help_text="And what depends on them.",
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        _scoped(self, "organization", visible(Organization.objects.filter(is_provider=False), user))
        items = self.fields["config_items"]
        assert isinstance(items, forms.ModelMultipleChoiceField)
        items.queryset = visible(ConfigItem.objects.select_related("organization"), user).order_by(
            "organization__name", "name"
        )

    def clean(self):
        """Local times read in the chosen zone, then the action checks everything else."""
        data = super().clean() or {}
        zone = data.get("zone")
        for name in ("starts_at", "ends_at"):
            value = data.get(name)
            if value is not None and zone:
                data[name] = value.replace(tzinfo=None).replace(tzinfo=ZoneInfo(zone))
        return data
