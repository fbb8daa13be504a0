"""The ping URLs of heartbeats, mounted at /ping/ (see ping_views)."""

from django.urls import path

from sustain.monitoring import ping_views

app_name = "ping"
urlpatterns = [
    path("<uuid:key>", ping_views.success, name="success"),
    path("<uuid:key>/<str:action>", ping_views.signal, name="signal"),
]
