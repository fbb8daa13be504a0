"""Bug pages (staff)."""

from django.urls import path

from sustain.bugs import views

app_name = "bugs"
urlpatterns = [
    path("", views.bug_list, name="list"),
    path("triage", views.triage_queue, name="triage"),
    path("new", views.new_bug, name="new"),
    path("b/<str:bug_key>", views.bug_page, name="bug"),
    path("b/<str:bug_key>/status", views.change_status, name="status"),
    path("b/<str:bug_key>/assign", views.assign, name="assign"),
    path("b/<str:bug_key>/classify", views.classify, name="classify"),
    path("b/<str:bug_key>/edit", views.edit, name="edit"),
    path("b/<str:bug_key>/comment", views.comment, name="comment"),
    path("b/<str:bug_key>/link", views.link_ticket, name="link"),
    path("b/<str:bug_key>/unlink", views.unlink_ticket, name="unlink"),
    path("b/<str:bug_key>/duplicate", views.duplicate, name="duplicate"),
    path("b/<str:bug_key>/line", views.set_line, name="line"),
    path("a/<int:bug_attachment_id>", views.download_attachment, name="attachment"),
]
