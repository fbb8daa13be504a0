"""The customer portal's threshold rules: /portal/rules/ (their own organization's only)."""

from django.urls import path

from sustain.monitoring import rule_views

app_name = "portal_rules"

urlpatterns = [
    path("", rule_views.portal_rule_list, name="list"),
    path("<int:threshold_rule_id>", rule_views.portal_rule, name="detail"),
]
