from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "sustain.desk"
    label = "desk"
    verbose_name = "Service desk"
