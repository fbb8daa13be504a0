"""The customer portal's status page: /portal/status/."""

from django.urls import path

from sustain.monitoring import portal

app_name = "portal_status"

urlpatterns = [path("", portal.status, name="status")]
