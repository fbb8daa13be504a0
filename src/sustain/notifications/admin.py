from django.contrib import admin

from sustain.notifications.models import CarbonCopy, DigestItem, Preferences


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "digest_hour", "organization_contact", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__email"]


@admin.register(DigestItem)
class DigestItemAdmin(admin.ModelAdmin):
    list_display = ["user", "subject", "event", "created_at", "sent_at"]
    list_filter = ["event"]
    list_select_related = ["user"]
    search_fields = ["user__email", "subject"]


@admin.register(CarbonCopy)
class CarbonCopyAdmin(admin.ModelAdmin):
    list_display = ["ticket", "email", "added_at"]
    list_select_related = ["ticket"]
    search_fields = ["email", "ticket__key"]
