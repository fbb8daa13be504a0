from django.urls import path

from sustain.sla import escalation_views, oncall_views, views

app_name = "sla"
urlpatterns = [
    path("calendars", views.calendars, name="calendars"),
    path("calendars/<int:calendar_id>", views.calendar, name="calendar"),
    path("oncall", oncall_views.on_call, name="oncall"),
    path("oncall/new", oncall_views.new_rotation, name="rotation_new"),
    path("oncall/<int:schedule_id>", oncall_views.rotation, name="rotation"),
    path("oncall/<int:schedule_id>/edit", oncall_views.edit_rotation, name="rotation_edit"),
    path("oncall/<int:schedule_id>/delete", oncall_views.delete_rotation, name="rotation_delete"),
    path("oncall/<int:schedule_id>/overrides", oncall_views.add_override, name="override_add"),
    path(
        "oncall/<int:schedule_id>/overrides/<int:override_id>/delete",
        oncall_views.remove_override,
        name="override_remove",
    ),
    path("pages/<int:page_id>/ack", oncall_views.acknowledge, name="ack"),
    path("escalation", escalation_views.rules, name="escalation_rules"),
    path("escalation/new", escalation_views.new_rule, name="escalation_new"),
    path("escalation/<int:rule_id>", escalation_views.rule, name="escalation_rule"),
    path("escalation/<int:rule_id>/delete", escalation_views.delete_rule, name="escalation_delete"),
    path("escalation/<int:rule_id>/active", escalation_views.toggle_rule, name="escalation_toggle"),
]
