from django.contrib import admin

from sustain.core.models import Event, OutboxMessage


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "target_type", "target_id", "verb", "actor", "request_id"]
    list_filter = ["target_type", "verb"]
    raw_id_fields = ["actor"]
    show_full_result_count = False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "state", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["kind", "state"]
