"""Monitoring in the admin: sources and the severity mapping edited through the actions;
alerts, machine tokens, probes and scrape jobs read-only (made and changed in the product);
dashboard pins reordered."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sustain.monitoring import actions
from sustain.monitoring.models import (
    Alert,
    DashboardPin,
    MachineToken,
    Probe,
    SeverityMapping,
    Source,
)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "organization", "config_item", "resolve_incidents")
    list_filter = ("kind",)
    search_fields = ("name",)

    def save_model(self, request: HttpRequest, obj: Source, form: Any, change: bool) -> None:
        if change:
            changes = {name: getattr(obj, name) for name in form.changed_data}
            fresh = Source.objects.get(pk=obj.pk)
            actions.update_source(request.user, fresh, changes)  # type: ignore[arg-type]
            return
        settings = {n: getattr(obj, n) for n in actions.SOURCE_SETTINGS}
        created = actions.create_source(
            request.user,  # type: ignore[arg-type]
            obj.organization,
            name=obj.name,
            kind=obj.kind,
            config_item=obj.config_item,
            **settings,
        )
        obj.pk = created.pk


@admin.register(SeverityMapping)
class SeverityMappingAdmin(admin.ModelAdmin):
    list_display = ("severity", "impact", "urgency")

    def save_model(
        self, request: HttpRequest, obj: SeverityMapping, form: Any, change: bool
    ) -> None:
        saved = actions.set_severity(request.user, obj.severity, obj.impact, obj.urgency)  # type: ignore[arg-type]
        obj.pk = saved.pk


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(ReadOnly):
    list_display = ("name", "state", "organization", "source", "ticket", "last_seen_at")
    list_filter = ("state",)
    search_fields = ("name", "fingerprint")


@admin.register(MachineToken)
class MachineTokenAdmin(ReadOnly):
    list_display = ("name", "prefix", "organization", "created_at", "last_used_at", "revoked_at")
    exclude = ("digest",)


# Metric series: read-only (machines make them through the ingest door).
from sustain.monitoring.models import Series  # noqa: E402


@admin.register(Series)
class SeriesAdmin(ReadOnly):
    list_display = ("name", "kind", "unit", "organization", "config_item", "last_sample_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    list_select_related = ("organization", "config_item")


@admin.register(Probe)
class ProbeAdmin(ReadOnly):
    """Probes are made and changed on their pages or through the API (the guard checks the
    target there); the admin lists them."""

    list_display = ("name", "kind", "organization", "state", "last_run_at", "last_ok")
    list_filter = ("kind", "state")
    search_fields = ("name", "url", "host")
    exclude = ("headers",)  # may carry a credential for the probed service


# Threshold rules and Prometheus sources: read-only here (their pages and the API check them
# whole through rules.py and prometheus_sources.py); the sources' secrets are never shown.
from sustain.monitoring.models import PrometheusSource, ThresholdRule  # noqa: E402


@admin.register(ThresholdRule)
class ThresholdRuleAdmin(ReadOnly):
    list_display = ("name", "organization", "metric", "prometheus", "paused", "last_evaluated_at")
    list_filter = ("paused", "aggregation")
    search_fields = ("name", "metric", "expression")
    list_select_related = ("organization", "prometheus")


@admin.register(PrometheusSource)
class PrometheusSourceAdmin(ReadOnly):
    list_display = ("name", "organization", "base_url", "timeout_seconds", "checked_at")
    search_fields = ("name", "base_url")
    exclude = ("bearer_token", "password")


# Scrape jobs: made and changed on their pages or through the API (the guard checks the URL
# there); the admin lists them.
from sustain.monitoring.models import ScrapeJob  # noqa: E402


@admin.register(ScrapeJob)
class ScrapeJobAdmin(ReadOnly):
    list_display = ("name", "organization", "url", "paused", "status", "last_run_at")
    list_filter = ("status", "paused")
    search_fields = ("name", "url")
    list_select_related = ("organization",)


@admin.register(DashboardPin)
class DashboardPinAdmin(admin.ModelAdmin):
    """Pins are made and removed in the product (the series page, the API); here their order
    on a dashboard may be changed."""

    list_display = ("__str__", "organization", "config_item", "series", "aggregation", "position")
    list_filter = ("organization",)
    list_editable = ("position",)
    fields = ("organization", "config_item", "series", "metric", "matchers", "aggregation")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
