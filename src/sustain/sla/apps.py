from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sustain.sla"
    label = "sla"
    verbose_name = "SLA"
