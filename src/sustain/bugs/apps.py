from django.apps import AppConfig


class BugsConfig(AppConfig):
    name = "sustain.bugs"
    label = "bugs"
    verbose_name = "Bugs"
