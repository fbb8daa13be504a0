"""Pages (filled in by the issue-5 work)."""

from django.urls import URLPattern

app_name = "portal_environments"

urlpatterns: list[URLPattern] = []
