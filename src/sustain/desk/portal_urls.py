from django.urls import path

from sustain.desk import portal

app_name = "portal"
urlpatterns = [
    path("", portal.ticket_list, name="list"),
    path("new", portal.new_ticket, name="new"),
    path("t/<str:key>", portal.ticket_page, name="ticket"),
    path("t/<str:key>/reply", portal.reply, name="reply"),
    path("t/<str:key>/status", portal.change_status, name="status"),
]
