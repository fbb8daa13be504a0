"""Django admin of bugs and triage targets; repositories and commits come from bugs/vcs/admin.py."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from sustain.bugs.models import Bug, BugLine, BugTicket, TriageTarget
from sustain.bugs.similar import index as similar_index
from sustain.bugs.vcs import admin as vcs_admin  # noqa: F401  (registers repositories, commits)


class BugLineInline(admin.TabularInline):
    model = BugLine
    extra = 0
    raw_id_fields = ["introduced_in", "planned_version", "fixed_version", "fixed_by"]


class BugTicketInline(admin.TabularInline):
    model = BugTicket
    extra = 0
    raw_id_fields = ["ticket", "created_by"]


@admin.register(Bug)
class BugAdmin(admin.ModelAdmin):
    """Read mostly: changes belong in the bug page (they go through the actions and their
    events); the admin is for looking things up."""

    list_display = [
        "key",
        "title",
        "product",
        "status",
        "severity",
        "priority",
        "organization_count",
        "incident_count",
        "is_regression",
        "created_at",
    ]
    list_filter = ["status", "severity", "priority", "is_regression", "product"]
    search_fields = ["key", "title"]
    raw_id_fields = [
        "product",
        "component",
        "environment",
        "duplicate_of",
        "reporter",
        "team",
        "assignee",
        "target_release",
        "regressed_in",
        "affected_versions",
    ]
    readonly_fields = ["key", "incident_count", "organization_count", "environment_count"]
    inlines = [BugLineInline, BugTicketInline]

    def save_model(self, request: Any, obj: Bug, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        similar_index.refresh(obj)  # past the actions: the duplicate suggestions' terms too


@admin.register(TriageTarget)
class TriageTargetAdmin(admin.ModelAdmin):
    """How long a new bug of each severity may wait for triage. A severity without a row uses
    the default of bugs/triage.py (1 h blocker … 5 days trivial, around the clock)."""

    list_display = ["severity", "minutes", "calendar"]
    list_editable = ["minutes", "calendar"]
