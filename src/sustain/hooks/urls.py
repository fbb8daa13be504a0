from django.urls import path

from sustain.hooks import views

app_name = "hooks"
urlpatterns = [
    path("", views.subscriptions, name="list"),
    path("new", views.new, name="new"),
    path("<int:subscription_id>", views.detail, name="detail"),
    path("<int:subscription_id>/edit", views.edit, name="edit"),
    path("<int:subscription_id>/delete", views.delete, name="delete"),
    path("<int:subscription_id>/ping", views.ping, name="ping"),
    path("<int:subscription_id>/secret", views.rotate_secret, name="secret"),
]
