from typing import Any

from django.contrib import admin

from sustain.bugs.similar import index as similar_index
from sustain.desk.models import (
    Attachment,
    Comment,
    PriorityRule,
    SavedFilter,
    Tag,
    Ticket,
    TicketLink,
)


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ["impact", "urgency", "priority"]
    list_editable = ["priority"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "title",
        "organization",
        "status",
        "priority",
        "team",
        "assignee",
        "created_at",
    ]
    list_filter = ["status", "priority", "kind", "organization"]
    search_fields = ["key", "title"]
    list_select_related = ["organization", "team", "assignee"]
    raw_id_fields = ["requester", "assignee", "parent", "affected_ci"]
    filter_horizontal = ["tags", "watchers"]
    show_full_result_count = False

    def save_model(self, request: Any, obj: Ticket, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        similar_index.refresh(obj)  # past the actions: the duplicate suggestions' terms too


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["ticket", "author", "is_public", "created_at"]
    raw_id_fields = ["ticket", "author"]


admin.site.register(Attachment)
admin.site.register(TicketLink)
admin.site.register(Tag)
admin.site.register(SavedFilter)
