"""Staff pages of the install base: /environments/."""

from django.urls import path

from sustain.releases.deployments import views

app_name = "environments"

urlpatterns = [
    path("", views.environment_list, name="list"),
    path("<int:environment_id>", views.environment_detail, name="detail"),
    path("<int:environment_id>/deploy", views.schedule, name="schedule"),
    path("deployments/<int:deployment_id>/transition", views.move, name="move"),
]
