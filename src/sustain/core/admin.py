"""Admin for the shared records. The audit log and the outbox are written by actions only."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sustain.core.models import Event, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """View only: no add, change or delete for anyone (a record of what happened stays so)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "target_type", "target_id", "verb", "actor", "request_id"]
    list_filter = ["target_type", "verb"]
    raw_id_fields = ["actor"]
    show_full_result_count = False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "state", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["kind", "state"]
