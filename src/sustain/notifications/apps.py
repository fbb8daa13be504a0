from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "sustain.notifications"
    label = "notifications"
    verbose_name = "Notifications"
