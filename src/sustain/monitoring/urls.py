from django.urls import path

from sustain.monitoring import heartbeat_views, probe_views, scrape_views, views

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
