from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sustain.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Register the outbox delivery handlers that live in core.
        from sustain.core import notify  # noqa: F401
