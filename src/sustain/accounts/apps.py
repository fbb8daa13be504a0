from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "sustain.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from sustain.accounts.auth import token_principal
        from sustain.core import idempotency

        # Core keeps Idempotency-Keys per caller but knows no tokens: it asks this.
        idempotency.register_bearer_principal(token_principal)
