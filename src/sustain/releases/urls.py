"""Release pages (staff)."""

from django.urls import path

from sustain.releases import views

app_name = "releases"
urlpatterns = [
    path("", views.release_list, name="list"),
    path("new", views.new_release, name="new"),
    path("<int:release_id>", views.release_page, name="detail"),
    path("<int:release_id>/transition", views.transition, name="transition"),
    path("<int:release_id>/approve", views.approve, name="approve"),
    path("<int:release_id>/edit", views.edit, name="edit"),
    path("<int:release_id>/bugs/add", views.add_bug, name="add_bug"),
    path("<int:release_id>/bugs/remove", views.remove_bug, name="remove_bug"),
    path("<int:release_id>/refresh", views.refresh, name="refresh"),
    path("<int:release_id>/changes", views.add_change, name="add_change"),
    path(
        "<int:release_id>/changes/<int:change_id>/delete",
        views.delete_change,
        name="delete_change",
    ),
    path("<int:release_id>/notes", views.edit_notes, name="notes"),
    path("<int:release_id>/notes/regenerate", views.regenerate_notes, name="regenerate"),
]
