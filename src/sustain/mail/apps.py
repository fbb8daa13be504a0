from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "sustain.mail"
    label = "mail"
    verbose_name = "E-mail"
