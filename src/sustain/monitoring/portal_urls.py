"""The customer portal's status page and dashboard: /portal/status/, /portal/status/dashboard."""

from django.urls import path

from sustain.monitoring import dashboard_views, portal

app_name = "portal_status"

urlpatterns = [
    path("", portal.status, name="status"),
    path("dashboard", dashboard_views.portal_dashboard, name="dashboard"),
]
