"""The threshold-rule and Prometheus-source forms: they parse what a page posts into what
rules.create_rule/update_rule and prometheus_sources take; the rules themselves are there."""

from __future__ import annotations

from typing import Any

from django import forms

from sustain.accounts.models import Organization, User
from sustain.core.forms import SecretField
from sustain.core.tenancy import visible
from sustain.monitoring import prometheus_sources, rules
from sustain.monitoring.models import PrometheusSource, ThresholdRule

Rule = ThresholdRule


def _customers(form: forms.Form, user: User) -> None:
    field = form.fields["organization"]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = visible(Organization.objects.filter(is_provider=False), user)


def parse_matchers(text: str) -> list[dict[str, str]]:
    """One matcher a line: `label=value`, `label!=value`, `label=~regex`, `label!~regex`."""
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        for op in ("!~", "=~", "!=", "="):
            label, sign, value = line.partition(op)
            if sign and label.strip():
                found.append({"label": label.strip(), "op": op, "value": value.strip()})
                break
        else:
            raise forms.ValidationError(f"“{line[:40]}” is not label=value (or !=, =~, !~).")
    return found


class RuleForm(forms.Form):
    """A rule's settings: Sustain's series (metric, matchers, window, aggregation) or a
    Prometheus source and its expression; the customer is chosen once, when it is made."""

    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), label="Customer")
    name = forms.CharField(max_length=rules.NAME_MAX)
    metric = forms.CharField(
        max_length=rules.METRIC_MAX,
        required=False,
        help_text="Sustain's series: the metric's name (leave empty for a Prometheus rule).",
    )
    matchers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=rules.MATCHERS_MAX * (rules.LABEL_MAX + rules.VALUE_MAX + 3),
        help_text="One label matcher a line: env=prod, route=~/api/.*, host!=web9",
    )
    window_seconds = forms.IntegerField(
        min_value=rules.WINDOW_MIN, max_value=rules.WINDOW_MAX, initial=300, label="Window (s)"
    )
    aggregation = forms.ChoiceField(choices=Rule.Aggregation.choices, initial="avg")
    prometheus = forms.ModelChoiceField(
        queryset=PrometheusSource.objects.none(),
        required=False,
        label="Prometheus source",
        empty_label="None: Sustain's own series",
    )
    expression = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=rules.EXPRESSION_MAX,
        required=False,
        label="PromQL expression",
        help_text='An instant vector or a scalar, e.g. sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))',
    )
    comparison = forms.ChoiceField(choices=Rule.Comparison.choices, initial="above")
    warning = forms.FloatField(required=False)
    warning_recovery = forms.FloatField(
        required=False, help_text="Clears past this (empty: the warning threshold)."
    )
    critical = forms.FloatField(required=False)
    critical_recovery = forms.FloatField(
        required=False, help_text="Clears past this (empty: the critical threshold)."
    )
    for_seconds = forms.IntegerField(
        min_value=0, max_value=rules.FOR_MAX, initial=0, label="Fires after (s)"
    )
    keep_firing_for_seconds = forms.IntegerField(
        min_value=0, max_value=rules.KEEP_MAX, initial=0, label="Keeps firing for (s)"
    )
    no_data = forms.ChoiceField(choices=Rule.NoData.choices, initial="keep", label="Without data")
    no_data_after_seconds = forms.IntegerField(
        min_value=rules.NO_DATA_MIN,
        max_value=rules.NO_DATA_MAX,
        initial=600,
        label="No data after (s)",
    )
    interval_seconds = forms.IntegerField(
        min_value=rules.INTERVAL_MIN, max_value=rules.INTERVAL_MAX, initial=60, label="Every (s)"
    )

    def __init__(self, *args: Any, user: User, rule: ThresholdRule | None = None, **kwargs: Any):
        if rule is not None:
            kwargs.setdefault("initial", initial_of(rule))
        super().__init__(*args, **kwargs)
        self.rule = rule
        sources = visible(PrometheusSource.objects.select_related("organization"), user)
        if rule is not None:
            del self.fields["organization"]
            sources = sources.filter(organization=rule.organization)
        else:
            _customers(self, user)
        field = self.fields["prometheus"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = sources.order_by("organization__name", "name")

    def clean_matchers(self) -> list[dict[str, str]]:
        return parse_matchers(self.cleaned_data.get("matchers") or "")

    def settings(self) -> dict[str, Any]:
        """What the actions take: the settings without the customer."""
        return {k: v for k, v in self.cleaned_data.items() if k != "organization"}


def initial_of(rule: ThresholdRule) -> dict[str, Any]:
    values = {name: getattr(rule, name) for name in rules.SETTINGS}
    values["matchers"] = "\n".join(f"{m['label']}{m['op']}{m['value']}" for m in rule.matchers)
    return values


class PrometheusSourceForm(forms.Form):
    """A Prometheus server's address and credentials; the secrets are never shown back (left
    empty, they stay as they are; `clear` removes them)."""

    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), label="Customer")
    name = forms.CharField(max_length=prometheus_sources.NAME_MAX)
    base_url = forms.CharField(
        max_length=prometheus_sources.URL_MAX,
        label="Base URL",
        help_text="e.g. https://prometheus.example.com (the API is under /api/v1/).",
    )
    bearer_token = SecretField(max_length=prometheus_sources.TOKEN_MAX, label="Bearer token")
    username = forms.CharField(
        max_length=prometheus_sources.USER_MAX, required=False, help_text="Basic authentication."
    )
    password = SecretField(max_length=prometheus_sources.PASSWORD_MAX)
    clear_secrets = forms.BooleanField(required=False, label="Remove the stored token and password")
    timeout_seconds = forms.IntegerField(
        min_value=prometheus_sources.TIMEOUT_MIN,
        max_value=prometheus_sources.TIMEOUT_MAX,
        initial=10,
        label="Timeout (s)",
    )

    def __init__(self, *args: Any, user: User, source: PrometheusSource | None = None, **kwargs):
        if source is not None:
            kwargs.setdefault(
                "initial",
                {
                    k: getattr(source, k)
                    for k in ("name", "base_url", "username", "timeout_seconds")
                },
            )
        super().__init__(*args, **kwargs)
        self.source = source
        if source is not None:
            del self.fields["organization"]
        else:
            _customers(self, user)
            del self.fields["clear_secrets"]

    def settings(self) -> dict[str, Any]:
        """The settings for the actions: an empty secret keeps the stored one on a change."""
        data = dict(self.cleaned_data)
        data.pop("organization", None)
        clear = data.pop("clear_secrets", False)
        for secret in ("bearer_token", "password"):
            if clear:
                data[secret] = ""
            elif self.source is not None and not data.get(secret):
                data.pop(secret)
        return data
