from django.urls import path

from sustain.sla import views

app_name = "sla"
urlpatterns = [
    path("calendars", views.calendars, name="calendars"),
    path("calendars/<int:calendar_id>", views.calendar, name="calendar"),
    path("oncall", views.on_call, name="oncall"),
    path("pages/<int:page_id>/ack", views.acknowledge, name="ack"),
]
