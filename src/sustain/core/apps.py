from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sustain.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.core import checks

        from sustain.core.sealing import check_keys

        # The keys that seal secrets at rest are checked before anything is served.
        checks.register(check_keys, checks.Tags.security)
