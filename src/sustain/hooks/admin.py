from django import forms
from django.contrib import admin

from sustain.core.errors import ActionError
from sustain.core.forms import SecretField, kept_secret
from sustain.hooks import actions
from sustain.hooks.models import Delivery, Subscription


class SubscriptionAdminForm(forms.ModelForm):
    """The admin checks a URL with the same rule as the API and the pages (the outbound guard).
    The signing secret is typed in a password field and never shown back (it is sealed at
    rest); left empty it is kept, or generated for a new subscription (then "New secret" on
    the webhook's page shows a fresh one once)."""

    secret = SecretField(
        help_text="Leave empty to keep the current secret (a new subscription gets one)."
    )

    class Meta:
        model = Subscription
        fields = [
            "name",
            "url",
            "events",
            "organization",
            "include_internal",
            "secret",
            "active",
            "owner",
            "disabled_reason",
        ]

    def clean_url(self) -> str:
        try:
            return actions.check_url(self.cleaned_data.get("url"))
        except ActionError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_secret(self) -> str:
        value = kept_secret(self, "secret")
        if value and value == self.instance.secret:
            return value
        try:
            return actions.check_secret(value)
        except ActionError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionAdminForm
    list_display = ["name", "url", "organization", "active", "consecutive_failures", "owner"]
    list_filter = ["active", "organization"]
    list_select_related = ["organization", "owner"]
    search_fields = ["name", "url"]
    readonly_fields = ["consecutive_failures", "disabled_at", "created_at", "updated_at"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["subscription", "event", "attempt", "status_code", "ok", "created_at"]
    list_filter = ["ok", "event"]
    list_select_related = ["subscription"]
    search_fields = ["delivery_id"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
