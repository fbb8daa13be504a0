"""Forms of the configuration pages: each field the action takes, checked by the action."""

from __future__ import annotations

from django import forms

from sustain.cmdb.models import ConfigDocument

TEXT_MAX = 2_000_000  # characters; the action's byte bound (SUSTAIN_CONFIG_MAX_BYTES) decides


class DocumentForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="e.g. nginx.conf or app/settings.yaml.")
    format = forms.ChoiceField(
        choices=[("", "From the name"), *ConfigDocument.Format.choices], required=False
    )
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "code"}),
        max_length=TEXT_MAX,
        required=False,
    )
    message = forms.CharField(max_length=500, required=False, help_text="Why, for the history.")
    open_ticket_on_drift = forms.BooleanField(
        required=False, label="Open a ticket when the observed copy drifts"
    )


class VersionForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"}),
        max_length=TEXT_MAX,
        required=False,
        strip=False,
    )
    message = forms.CharField(max_length=500, required=False, help_text="Why, for the history.")


class IgnoreForm(forms.Form):
    rules = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "code"}),
        required=False,
        max_length=20_000,
        label="Ignore rules",
        help_text="One per line: key:REGEX (a key's lines, such as key:last_updated) or "
        "line:REGEX (lines matching, such as line:^# generated).",
    )

    def rules_list(self) -> list[dict[str, str]]:
        out = []
        for line in self.cleaned_data["rules"].splitlines():
            if line.strip():
                kind, _, pattern = line.strip().partition(":")
                out.append({"kind": kind.strip(), "pattern": pattern.strip()})
        return out
