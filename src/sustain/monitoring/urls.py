from django.urls import path

from sustain.core.access import customers_to
from sustain.monitoring import (
    chart_views,
    dashboard_views,
    heartbeat_views,
    probe_views,
    prometheus_views,
    rule_views,
    scrape_views,
    views,
)

app_name = "monitoring"
urlpatterns = [
    path("", views.alerts, name="alerts"),
    path("alerts/<int:alert_id>", views.alert, name="alert"),
    path("sources", views.sources, name="sources"),
    path("tokens/new", views.new_token, name="new_token"),
    path("tokens/<int:machine_token_id>/revoke", views.revoke_token, name="revoke_token"),
    path("maintenance", views.maintenance, name="maintenance"),
    path("maintenance/calendar", views.maintenance_calendar, name="calendar"),
    path("items/<int:item_id>", views.item, name="item"),
    path("items/<int:item_id>/dashboard", dashboard_views.item_dashboard, name="item_dashboard"),
    path("dashboard", dashboard_views.dashboard, name="dashboard"),
    path("series/", chart_views.series_list, name="series_list"),
    path("series/<int:series_id>", chart_views.series, name="series"),
    path("series/<int:series_id>/pin", chart_views.series_pin, name="series_pin"),
    path("pins/<int:pin_id>/delete", chart_views.pin_delete, name="pin_delete"),
    path("heartbeats", heartbeat_views.heartbeats, name="heartbeats"),
    path("heartbeats/new", heartbeat_views.heartbeat_new, name="heartbeat_new"),
    path("heartbeats/<int:heartbeat_id>", heartbeat_views.heartbeat, name="heartbeat"),
    path(
        "heartbeats/<int:heartbeat_id>/edit", heartbeat_views.heartbeat_edit, name="heartbeat_edit"
    ),
    path(
        "heartbeats/<int:heartbeat_id>/pause",
        heartbeat_views.heartbeat_pause,
        name="heartbeat_pause",
    ),
    path(
        "heartbeats/<int:heartbeat_id>/resume",
        heartbeat_views.heartbeat_resume,
        name="heartbeat_resume",
    ),
    path(
        "heartbeats/<int:heartbeat_id>/delete",
        heartbeat_views.heartbeat_delete,
        name="heartbeat_delete",
    ),
    path("probes", probe_views.probes, name="probes"),
    path("probes/new", probe_views.probe_new, name="probe_new"),
    path("probes/<int:probe_id>", probe_views.probe, name="probe"),
    path("probes/<int:probe_id>/edit", probe_views.probe_edit, name="probe_edit"),
    path("probes/<int:probe_id>/pause", probe_views.probe_pause, name="probe_pause"),
    path("probes/<int:probe_id>/resume", probe_views.probe_resume, name="probe_resume"),
    path("probes/<int:probe_id>/run", probe_views.probe_run, name="probe_run"),
    path("probes/<int:probe_id>/delete", probe_views.probe_delete, name="probe_delete"),
    path("rules", rule_views.rule_list, name="rules"),
    path("rules/new", rule_views.rule_new, name="rule_new"),
    path(
        "rules/<int:threshold_rule_id>",
        customers_to("portal_rules:detail")(rule_views.rule),
        name="rule",
    ),
    path("rules/<int:threshold_rule_id>/edit", rule_views.rule_edit, name="rule_edit"),
    path("rules/<int:threshold_rule_id>/pause", rule_views.rule_pause, name="rule_pause"),
    path("rules/<int:threshold_rule_id>/resume", rule_views.rule_resume, name="rule_resume"),
    path("rules/<int:threshold_rule_id>/delete", rule_views.rule_delete, name="rule_delete"),
    path("prometheus", prometheus_views.source_list, name="prometheus_sources"),
    path("prometheus/new", prometheus_views.source_new, name="prometheus_new"),
    path(
        "prometheus/<int:prometheus_source_id>/edit",
        prometheus_views.source_edit,
        name="prometheus_edit",
    ),
    path(
        "prometheus/<int:prometheus_source_id>/delete",
        prometheus_views.source_delete,
        name="prometheus_delete",
    ),
    path(
        "prometheus/<int:prometheus_source_id>/test",
        prometheus_views.source_test,
        name="prometheus_test",
    ),
    path("scrape-jobs", scrape_views.scrape_jobs, name="scrape_jobs"),
    path("scrape-jobs/new", scrape_views.scrape_job_new, name="scrape_job_new"),
    path("scrape-jobs/<int:scrape_job_id>", scrape_views.scrape_job, name="scrape_job"),
    path(
        "scrape-jobs/<int:scrape_job_id>/edit",
        scrape_views.scrape_job_edit,
        name="scrape_job_edit",
    ),
    path(
        "scrape-jobs/<int:scrape_job_id>/pause",
        scrape_views.scrape_job_pause,
        name="scrape_job_pause",
    ),
    path(
        "scrape-jobs/<int:scrape_job_id>/resume",
        scrape_views.scrape_job_resume,
        name="scrape_job_resume",
    ),
    path(
        "scrape-jobs/<int:scrape_job_id>/scrape",
        scrape_views.scrape_job_scrape,
        name="scrape_job_scrape",
    ),
    path(
        "scrape-jobs/<int:scrape_job_id>/delete",
        scrape_views.scrape_job_delete,
        name="scrape_job_delete",
    ),
]
