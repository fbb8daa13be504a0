from django.urls import path

from sustain.sla import setup_views, views

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
    path("oncall", views.on_call, name="oncall"),
    path("pages/<int:page_id>/ack", views.acknowledge, name="ack"),
]
