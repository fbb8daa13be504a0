"""The machine-token, maintenance-window, probe, heartbeat and scrape-job forms; the rules live
in actions."""

from __future__ import annotations

from zoneinfo import ZoneInfo, available_timezones

from django import forms

from sustain.accounts.models import Organization, User
from sustain.cmdb.models import ConfigItem
from sustain.core.tenancy import visible
from sustain.monitoring import heartbeats, probes, scrapes
from sustain.monitoring.models import Heartbeat, Probe, ScrapeJob, Source

ZONES = sorted(available_timezones())


def _scoped(form: forms.Form, name: str, queryset) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


def _customer_and_item(form: forms.Form, user: User, *, made: bool) -> None:
    """The customers and items `user` may choose; the customer is fixed once a watcher is
    made (its field goes)."""
    if made:
        del form.fields["organization"]
    else:
        customers = Organization.objects.filter(is_provider=False)
        _scoped(form, "organization", visible(customers, user))
    items = ConfigItem.objects.select_related("organization")
    _scoped(form, "config_item", visible(items, user).order_by("organization__name", "name"))


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


class ProbeForm(forms.Form):
    """A probe's settings; headers as "Name: value" lines. The customer and the kind are
    chosen once, when it is made."""

    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), label="Customer")
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Probe.Kind.choices, initial=Probe.Kind.HTTP)
    config_item = forms.ModelChoiceField(
        queryset=ConfigItem.objects.none(), required=False, label="Configuration item"
    )
    url = forms.CharField(
        max_length=2000, required=False, label="URL", help_text="HTTP probes: http:// or https://"
    )
    method = forms.ChoiceField(choices=Probe.Method.choices, initial=Probe.Method.GET)
    headers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=probes.HEADERS_MAX * (probes.HEADER_NAME_MAX + probes.HEADER_VALUE_MAX + 3),
        help_text="One “Name: value” a line.",
    )
    expected_status = forms.CharField(max_length=100, initial="200-299")
    keyword = forms.CharField(max_length=probes.KEYWORD_MAX, required=False)
    keyword_absent = forms.BooleanField(required=False, label="The keyword must be absent")
    json_path = forms.CharField(
        max_length=probes.JSON_PATH_MAX,
        required=False,
        label="JSON path",
        help_text="e.g. $.status",
    )
    json_expected = forms.CharField(
        max_length=probes.JSON_EXPECTED_MAX, required=False, label="JSON value expected"
    )
    tls_expiry_days = forms.IntegerField(
        min_value=0, max_value=probes.TLS_DAYS_MAX, initial=14, label="Warn days before TLS expiry"
    )
    host = forms.CharField(max_length=probes.HOST_MAX, required=False, help_text="TCP probes.")
    port = forms.IntegerField(min_value=1, max_value=65535, required=False, help_text="TCP probes.")
    timeout_seconds = forms.IntegerField(
        min_value=probes.TIMEOUT_MIN, max_value=probes.TIMEOUT_MAX, initial=10, label="Timeout (s)"
    )
    interval_seconds = forms.IntegerField(
        min_value=probes.INTERVAL_MIN,
        max_value=probes.INTERVAL_MAX,
        initial=60,
        label="Every (s)",
    )
    fail_after = forms.IntegerField(
        min_value=1, max_value=probes.THRESHOLD_MAX, initial=2, label="Down after failures"
    )
    recover_after = forms.IntegerField(
        min_value=1, max_value=probes.THRESHOLD_MAX, initial=1, label="Up after successes"
    )

    def __init__(self, *args, user: User, probe: Probe | None = None, **kwargs):
        if probe is not None:
            kwargs.setdefault("initial", initial_of(probe))
        super().__init__(*args, **kwargs)
        self.probe = probe
        if probe is not None:  # fixed once made
            del self.fields["kind"]
        _customer_and_item(self, user, made=probe is not None)

    def clean_headers(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for line in (self.cleaned_data.get("headers") or "").splitlines():
            if not line.strip():
                continue
            name, colon, value = line.partition(":")
            if not colon:
                raise forms.ValidationError(f"“{line[:40]}” is not “Name: value”.")
            found[name.strip()] = value.strip()
        return found

    def settings(self) -> dict:
        """What the actions take: the settings without the customer and the kind."""
        return {k: v for k, v in self.cleaned_data.items() if k not in ("organization", "kind")}


def initial_of(probe: Probe) -> dict:
    values = {name: getattr(probe, name) for name in probes.SETTINGS}
    values["headers"] = "\n".join(f"{k}: {v}" for k, v in (probe.headers or {}).items())
    return values


class HeartbeatForm(forms.Form):
    """A heartbeat's settings: every period (plus a grace), or a cron expression in a time zone
    (plus the grace). The customer is chosen once, when it is made."""

    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), label="Customer")
    name = forms.CharField(max_length=heartbeats.NAME_MAX, help_text="e.g. “Nightly backup”.")
    config_item = forms.ModelChoiceField(
        queryset=ConfigItem.objects.none(), required=False, label="Configuration item"
    )
    period_seconds = forms.IntegerField(
        min_value=heartbeats.SECONDS_MIN,
        max_value=heartbeats.SECONDS_MAX,
        initial=86400,
        label="Every (s)",
        help_text="How often the job runs, when no cron expression is given.",
    )
    cron = forms.CharField(
        max_length=100,
        required=False,
        label="Cron expression",
        help_text="e.g. 30 2 * * * — instead of the period.",
    )
    time_zone = forms.ChoiceField(
        choices=[(z, z) for z in ZONES], initial="UTC", label="Time zone of the cron expression"
    )
    grace_seconds = forms.IntegerField(
        min_value=heartbeats.SECONDS_MIN,
        max_value=heartbeats.SECONDS_MAX,
        initial=3600,
        label="Grace (s)",
        help_text="Late at the expected ping, down (an incident) this much later.",
    )

    def __init__(self, *args, user: User, heartbeat: Heartbeat | None = None, **kwargs):
        if heartbeat is not None:
            initial = {name: getattr(heartbeat, name) for name in heartbeats.SETTINGS}
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.heartbeat = heartbeat
        _customer_and_item(self, user, made=heartbeat is not None)

    def settings(self) -> dict:
        return {name: self.cleaned_data[name] for name in heartbeats.SETTINGS}


class ScrapeJobForm(forms.Form):
    """A scrape job's settings; extra labels as "name=value" lines. The customer is chosen
    once, when it is made."""

    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), label="Customer")
    name = forms.CharField(
        max_length=scrapes.NAME_MAX, help_text="The job label of its series, e.g. “shop”."
    )
    url = forms.CharField(
        max_length=2000, label="URL", help_text="The endpoint, e.g. https://shop.example/metrics"
    )
    config_item = forms.ModelChoiceField(
        queryset=ConfigItem.objects.none(), required=False, label="Configuration item"
    )
    interval_seconds = forms.IntegerField(
        min_value=scrapes.INTERVAL_MIN,
        max_value=scrapes.INTERVAL_MAX,
        initial=60,
        label="Every (s)",
    )
    timeout_seconds = forms.IntegerField(
        min_value=scrapes.TIMEOUT_MIN,
        max_value=scrapes.TIMEOUT_MAX,
        initial=10,
        label="Timeout (s)",
    )
    labels = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=scrapes.LABELS_MAX * 700,
        label="Extra labels",
        help_text="One name=value a line, e.g. env=production.",
    )

    def __init__(self, *args, user: User, job: ScrapeJob | None = None, **kwargs):
        if job is not None:
            initial = {name: getattr(job, name) for name in scrapes.SETTINGS}
            initial["labels"] = "\n".join(f"{k}={v}" for k, v in (job.labels or {}).items())
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.job = job
        _customer_and_item(self, user, made=job is not None)

    def clean_labels(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for line in (self.cleaned_data.get("labels") or "").splitlines():
            if not line.strip():
                continue
            name, equals, value = line.partition("=")
            if not equals:
                raise forms.ValidationError(f"“{line[:40]}” is not “name=value”.")
            found[name.strip()] = value.strip()
        return found

    def settings(self) -> dict:
        return {name: self.cleaned_data[name] for name in scrapes.SETTINGS}
