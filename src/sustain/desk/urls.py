from django.urls import path

from sustain.core.access import customers_to
from sustain.desk import views

app_name = "desk"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new", views.new_ticket, name="new"),
    path("filters", views.save_filter, name="save_filter"),
    path("t/<str:key>", customers_to("portal:ticket")(views.ticket_page), name="ticket"),
    path("t/<str:key>/reply", views.reply, name="reply"),
    path("t/<str:key>/status", views.change_status, name="status"),
    path("t/<str:key>/assign", views.change_assignment, name="assign"),
    path("t/<str:key>/priority", views.change_priority, name="priority"),
    path("t/<str:key>/link", views.link_ticket, name="link"),
    path("t/<str:key>/parent", views.change_parent, name="parent"),
    path("t/<str:key>/tags", views.change_tags, name="tags"),
    path("t/<str:key>/watch", views.watch, name="watch"),
    path("a/<int:attachment_id>", views.download_attachment, name="attachment"),
]
