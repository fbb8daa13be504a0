from django.urls import path

from sustain.sla import escalation_views, oncall_views, setup_views, views

app_name = "sla"
urlpatterns = [
    path("calendars", views.calendars, name="calendars"),
    path("calendars/<int:calendar_id>", views.calendar, name="calendar"),
    path("calendars/new", setup_views.calendar_new, name="calendar_new"),
    path("calendars/<int:calendar_id>/edit", setup_views.calendar_edit, name="calendar_edit"),
    path("calendars/<int:calendar_id>/delete", setup_views.calendar_delete, name="calendar_delete"),
    path("calendars/<int:calendar_id>/holidays", setup_views.holiday_add, name="holiday_add"),
    path(
        "calendars/<int:calendar_id>/holidays/<str:day>/remove",
        setup_views.holiday_remove,
        name="holiday_remove",
    ),
    path(
        "calendars/<int:calendar_id>/holidays/import",
        setup_views.holiday_import,
        name="holiday_import",
    ),
    path("holidays/regions", setup_views.regions, name="regions"),
    path("policies/new", setup_views.policy_new, name="policy_new"),
    path("policies/<int:policy_id>/edit", setup_views.policy_edit, name="policy_edit"),
    path("policies/<int:policy_id>/delete", setup_views.policy_delete, name="policy_delete"),
    path("policies/<int:policy_id>/move", setup_views.policy_move, name="policy_move"),
    path("recompute", setup_views.progress, name="recompute"),
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
