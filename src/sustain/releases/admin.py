"""Admin views of releases. The workflow (status, approval, release) is changed through the
release page or the API, whose actions check the quality gate and record events; here those
fields are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from sustain.releases.models import Deployment, Release, ReleaseBug, ReleaseChange, TestRun

WORKFLOW_FIELDS = [
    "product",
    "version",
    "kind",
    "status",
    "previous",
    "approved_at",
    "approved_by",
    "gate_override_reason",
    "released_at",
    "withdrawn_reason",
    "notes_edited",
    "created_at",
    "updated_at",
]


class ReleaseBugInline(admin.TabularInline):
    model = ReleaseBug
    extra = 0
    raw_id_fields = ["bug"]
    readonly_fields = ["source", "created_at"]


class ReleaseChangeInline(admin.TabularInline):
    model = ReleaseChange
    extra = 0
    fields = ["kind", "title", "is_public"]


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "status", "planned_for", "released_at"]
    list_filter = ["status", "kind", "product"]
    search_fields = ["version__name", "product__name", "summary"]
    list_select_related = ["product", "version"]
    readonly_fields = WORKFLOW_FIELDS
    raw_id_fields = ["repository"]
    inlines = [ReleaseBugInline, ReleaseChangeInline]

    def has_add_permission(self, request: Any) -> bool:
        return False  # kinds are checked by create_release (the release pages or the API)


@admin.register(TestRun)
class TestRunAdmin(admin.ModelAdmin):
    list_display = ["release", "name", "result", "passed", "failed", "skipped", "created_at"]
    list_filter = ["result"]
    list_select_related = ["release__product", "release__version"]
    raw_id_fields = ["release", "reported_by"]


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    """Read-only: deployments move through their own workflow (environment pages, API)."""

    list_display = ["release", "environment", "organization", "status", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["release__product", "release__version", "environment", "organization"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
