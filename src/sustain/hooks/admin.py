from django import forms
from django.contrib import admin

from sustain.core.errors import Invalid
from sustain.hooks import actions
from sustain.hooks.models import Delivery, Subscription


class SubscriptionAdminForm(forms.ModelForm):
    """The admin checks a URL with the same rule as the API and the pages (the outbound guard);
    its model and fields come from the ModelAdmin."""

    def clean_url(self) -> str:
        try:
            return actions.check_url(self.cleaned_data.get("url"))
        except Invalid as exc:
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
