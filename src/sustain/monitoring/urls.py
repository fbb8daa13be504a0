from django.urls import path

from sustain.monitoring import heartbeat_views, views

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
    path("heartbeats/<int:heartbeat_id>", heartbeat_views.heartbeat, name="heartbeat"),
]
