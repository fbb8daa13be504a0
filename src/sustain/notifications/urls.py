from django.urls import path

from sustain.notifications import views

app_name = "notifications"
urlpatterns = [
    path("notifications", views.preferences, name="preferences"),
]
