"""The as-you-type suggestions partial (htmx), for the new ticket and new bug forms."""

from django.urls import path

from sustain.bugs.similar import views

app_name = "similar"

urlpatterns = [
    path("", views.suggest_partial, name="suggest"),
]
