from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "sustain.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Register the outbox handlers that render and send e-mail.
        from sustain.notifications import mailing  # noqa: F401
