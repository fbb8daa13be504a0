"""Forms of the SLA set-up pages: calendars (a week grid of working intervals), holidays and
their import by country and region, and policies (conditions, a table of targets).

They parse what a person typed into the values sla.actions takes, keeping it for the page
when refused; the checks of the values themselves are the models' (sla.validation), run by
the actions, so the page, the API and the admin refuse the same things.
"""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

import holidays as holiday_data
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict
from holidays.registry import COUNTRIES

from sustain.accounts.models import Organization, User
from sustain.cmdb.models import ConfigItem, Product
from sustain.core import timezones
from sustain.core.errors import ActionError
from sustain.core.models import Priority
from sustain.core.tenancy import visible
from sustain.desk.models import Kind, Status
from sustain.sla import validation
from sustain.sla.models import Calendar, Metric, Policy

DAYS = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
]
OFFICE_HOURS = {day: [["09:00", "17:00"]] for day, _ in DAYS[:5]}
METRICS = [(m.value, m.label.capitalize()) for m in Metric]
MAX_IMPORT_YEARS = 10


def zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(timezones.known())]


def default_zone(user: User) -> str:
    """The manager's own zone, else the install's."""
    zone = getattr(user, "time_zone", "") or settings.TIME_ZONE
    return zone if timezones.is_known(zone) else "UTC"


def show_errors(form: forms.Form, exc: ActionError, aliases: dict[str, str] | None = None) -> None:
    """Every field an action's refusal names beside that field ("targets.minutes" beside
    "targets"); what names no field of the form goes above it."""
    found = exc.errors or [{"field": None, "message": exc.message}]
    for error in found:
        name = (error.get("field") or "").split(".")[0]
        name = (aliases or {}).get(name, name)
        message = error.get("message") or exc.message
        form.add_error(name if name in form.fields else None, message)


def _choice(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def _model_choice(form: forms.Form, name: str) -> forms.ModelChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    return field


class CalendarForm(forms.Form):
    """Name, zone, owner and 24×7; the week grid is parsed apart (see week_grid)."""

    name = forms.CharField(max_length=100)
    timezone = forms.ChoiceField(label="Time zone")
    always = forms.BooleanField(
        required=False, label="24×7", help_text="Every minute counts: no hours, no holidays."
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        empty_label="Shared by every customer",
        label="Customer",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _choice(self, "timezone").choices = zone_choices()
        _model_choice(self, "organization").queryset = visible(
            Organization.objects.filter(is_provider=False), user
        )


def week_grid(data: QueryDict | None, hours: dict | None) -> list[dict[str, Any]]:
    """The week as rows for the page: each day with its intervals (typed or stored), and at
    least one empty row to type into. Posted as mon_start / mon_end lists, index by index."""
    rows = []
    for day, label in DAYS:
        if data is not None:
            pairs = list(
                zip(data.getlist(f"{day}_start"), data.getlist(f"{day}_end"), strict=False)
            )
        else:
            pairs = [(start, end) for start, end in (hours or {}).get(day, [])]
        pairs = [(s, e) for s, e in pairs if s or e] or [("", "")]
        rows.append({"day": day, "label": label, "intervals": pairs, "error": ""})
    return rows


def parse_week(rows: list[dict[str, Any]]) -> dict[str, list[list[str]]] | None:
    """{"mon": [["09:00", "17:00"]], …} from the grid, or None after writing each day's
    problem into its row (the same check the model runs, day by day)."""
    hours: dict[str, list[list[str]]] = {}
    ok = True
    for row in rows:
        pairs = [[s.strip(), e.strip()] for s, e in row["intervals"] if s.strip() or e.strip()]
        for start, end in pairs:
            if not start or not end:
                row["error"] = "Give both a start and an end, or clear the row."
        if not row["error"] and pairs:
            try:
                validation.check_hours({row["day"]: pairs}, False)
            except ValidationError as exc:
                row["error"] = validation.reason(exc).split(": ", 1)[-1]
        ok = ok and not row["error"]
        if pairs:
            hours[row["day"]] = pairs
    return hours if ok else None


class HolidayForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(max_length=200, required=False)


@functools.cache
def country_choices() -> list[tuple[str, str]]:
    names = {entry[1]: key.replace("_", " ").title() for key, entry in COUNTRIES.items()}
    return sorted(names.items(), key=lambda item: item[1])


@functools.cache
def subdivision_choices(country: str) -> list[tuple[str, str]]:
    """A country's regions (code, name) as the `holidays` package knows them."""
    try:
        found = holiday_data.country_holidays(country)
    except NotImplementedError:
        return []
    names: dict[str, str] = {}
    for name, code in getattr(found, "subdivisions_aliases", {}).items():
        names.setdefault(code, name)
    return [
        (code, f"{names[code]} ({code})" if code in names else code) for code in found.subdivisions
    ]


class HolidayImportForm(forms.Form):
    country = forms.ChoiceField()
    subdivision = forms.ChoiceField(required=False, label="Region")
    year = forms.IntegerField(min_value=1990, max_value=2100, label="From year")
    until = forms.IntegerField(
        min_value=1990, max_value=2100, required=False, label="To year", help_text="Optional."
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _choice(self, "country").choices = [("", "Choose a country"), *country_choices()]
        country = self.data.get("country") or self.initial.get("country") or ""
        _choice(self, "subdivision").choices = [("", "The whole country")] + (
            subdivision_choices(country) if country else []
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        year, until = data.get("year"), data.get("until")
        if year and until:
            if until < year:
                self.add_error("until", "The last year comes after the first.")
            elif until - year >= MAX_IMPORT_YEARS:
                self.add_error("until", f"At most {MAX_IMPORT_YEARS} years at once.")
        return data

    def years(self) -> range:
        year = self.cleaned_data["year"]
        return range(year, (self.cleaned_data.get("until") or year) + 1)


class ConfigItemField(forms.ModelChoiceField):
    """Configuration items by name, with their customer's name (two customers' "prod")."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.organization.name})" if obj.organization_id else obj.name


def target_name(priority: int, metric: str) -> str:
    return f"target_{priority}_{metric}"


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=100)
    active = forms.BooleanField(required=False, initial=True)
    calendar = forms.ModelChoiceField(queryset=Calendar.objects.none(), empty_label=None)
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        empty_label="Any customer",
        label="Customer",
    )
    kind = forms.ChoiceField(
        choices=[("", "Any kind")] + [(k.value, k.label.capitalize()) for k in Kind],
        required=False,
    )
    priority = forms.TypedChoiceField(
        choices=[("", "Any priority"), *list(Priority.choices)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    product = forms.ModelChoiceField(
        queryset=Product.objects.none(), required=False, empty_label="Any product"
    )
    config_item = ConfigItemField(
        queryset=ConfigItem.objects.none(),
        required=False,
        empty_label="Any configuration item",
        label="Configuration item",
    )
    warn_percent = forms.IntegerField(
        min_value=1,
        max_value=99,
        initial=75,
        label="Warn at",
        help_text="Per cent of the target spent before the warning.",
    )
    pause_statuses = forms.MultipleChoiceField(
        choices=[(s.value, s.label) for s in Status if s.value in validation.PAUSABLE_STATUSES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=["pending"],
        label="Clock pauses while",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _model_choice(self, "calendar").queryset = visible(Calendar.objects.all(), user)
        _model_choice(self, "organization").queryset = visible(
            Organization.objects.filter(is_provider=False), user
        )
        _model_choice(self, "product").queryset = visible(Product.objects.all(), user)
        _model_choice(self, "config_item").queryset = visible(
            ConfigItem.objects.select_related("organization").order_by("name"), user
        )
        for priority in Priority:
            for metric, label in METRICS:
                self.fields[target_name(priority.value, metric)] = forms.IntegerField(
                    min_value=1,
                    max_value=validation.MAX_TARGET_MINUTES,
                    required=False,
                    label=f"{priority.label}, {label.lower()}",
                    widget=forms.NumberInput(
                        attrs={
                            "placeholder": "—",
                            "inputmode": "numeric",
                            "aria-label": f"{priority.label}, {label.lower()} (minutes)",
                        }
                    ),
                )

    def target_rows(self) -> list[dict[str, Any]]:
        """The table: one row per priority, one cell (the bound field) per metric."""
        return [
            {
                "label": priority.label,
                "cells": [self[target_name(priority.value, metric)] for metric, _ in METRICS],
            }
            for priority in Priority
        ]

    def targets(self) -> list[dict[str, Any]]:
        found = []
        for priority in Priority:
            for metric, _ in METRICS:
                minutes = self.cleaned_data.get(target_name(priority.value, metric))
                if minutes:
                    found.append({"priority": priority.value, "metric": metric, "minutes": minutes})
        return found

    def action_fields(self) -> dict[str, Any]:
        """The values for create_policy / update_policy."""
        data = self.cleaned_data
        fields = {
            key: data[key]
            for key in (
                "name",
                "active",
                "calendar",
                "organization",
                "priority",
                "product",
                "config_item",
                "warn_percent",
            )
        }
        fields["kind"] = data["kind"] or ""
        fields["pause_statuses"] = list(data["pause_statuses"])
        fields["targets"] = self.targets()
        return fields


def policy_initial(policy: Policy) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "name": policy.name,
        "active": policy.active,
        "calendar": policy.calendar_id,
        "organization": policy.organization_id,
        "kind": policy.kind,
        "priority": policy.priority,
        "product": policy.product_id,
        "config_item": policy.config_item_id,
        "warn_percent": policy.warn_percent,
        "pause_statuses": policy.pause_statuses,
    }
    for target in policy.targets.all():
        initial[target_name(target.priority, target.metric)] = target.minutes
    return initial


def this_year() -> int:
    return date.today().year
