from django.urls import path

from sustain.monitoring import chart_views, dashboard_views, heartbeat_views, probe_views, views

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
]
