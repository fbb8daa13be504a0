from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "sustain.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"
