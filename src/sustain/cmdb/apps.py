from django.apps import AppConfig


class CmdbConfig(AppConfig):
    name = "sustain.cmdb"
    label = "cmdb"
    verbose_name = "CMDB"
