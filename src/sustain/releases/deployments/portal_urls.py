"""The customer portal's environments: /portal/environments/."""

from django.urls import path

from sustain.releases.deployments import portal

app_name = "portal_environments"

urlpatterns = [
    path("", portal.environment_list, name="list"),
    path("<int:environment_id>", portal.environment_detail, name="detail"),
]
