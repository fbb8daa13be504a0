from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "sustain.hooks"
    label = "hooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from sustain.hooks import delivery  # noqa: F401  (registers the outbox handler)
