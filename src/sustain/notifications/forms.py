"""The settings page's form; the rules live in actions."""

from __future__ import annotations

from django import forms

from sustain.core import languages, timezones
from sustain.notifications.models import DeliveryMode, Moment

# What customers are ever told of (a fix deployed to their environment too); the rest (assignment, SLA, escalation) is for agents.
CUSTOMER_EVENTS = {
    Moment.TICKET_CREATED,
    Moment.PUBLIC_REPLY,
    Moment.STATUS_CHANGED,
    Moment.FIX_DEPLOYED,
}


def _zones() -> list[tuple[str, str]]:
    return [("", "UTC (default)")] + [(z, z) for z in sorted(timezones.known())]


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        required=False,
        label="Language of the mail",
        help_text="Only the languages Sustain has a translation for.",
    )
    time_zone = forms.ChoiceField(
        required=False,
        label="Time zone",
        help_text="Times on these pages and in your mail are shown in this zone.",
    )
    digest_hour = forms.TypedChoiceField(
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        coerce=int,
        label="Send the daily digest at",
    )
    organization_contact = forms.BooleanField(
        required=False,
        label="Tell me about every ticket of my organization, not only mine",
    )

    def __init__(self, *args, customer: bool, **kwargs):
        super().__init__(*args, **kwargs)
        language, zone = self.fields["language"], self.fields["time_zone"]
        assert isinstance(language, forms.ChoiceField) and isinstance(zone, forms.ChoiceField)
        language.choices = [("", "Default"), *languages.offered()]
        zone.choices = _zones()
        for event in Moment:
            if customer and event.value not in CUSTOMER_EVENTS:
                continue
            self.fields[event.value] = forms.ChoiceField(
                choices=DeliveryMode.choices, label=event.label, widget=forms.RadioSelect
            )
        if not customer:
            del self.fields["organization_contact"]

    def event_fields(self):
        return [self[event.value] for event in Moment if event.value in self.fields]
