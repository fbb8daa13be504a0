"""Django admin of repositories and the commits seen (imported by sustain/bugs/admin.py).

The webhook secret is entered through a password field and never shown back; commits are
read-only here (they come from pushes and scans)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from sustain.bugs.models import BugCommit, Commit, CommitBranch, Repository
from sustain.core.forms import SecretField, kept_secret


class RepositoryForm(forms.ModelForm):
    url = forms.URLField(required=False, max_length=500, assume_scheme="https")
    webhook_secret = SecretField(
        help_text="Leave empty to keep the current secret; at least 16 characters."
    )

    class Meta:
        model = Repository
        fields = [
            "name",
            "product",
            "provider",
            "url",
            "path",
            "default_branch",
            "branch_patterns",
            "webhook_secret",
        ]

    def clean_webhook_secret(self) -> str:
        typed = self.cleaned_data.get("webhook_secret") or ""
        if typed and len(typed) < 16:
            raise forms.ValidationError("At least 16 characters.")
        return kept_secret(self, "webhook_secret")


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    form = RepositoryForm
    list_display = ["name", "product", "provider", "default_branch", "has_secret", "path"]
    list_filter = ["provider"]
    list_select_related = ["product"]
    search_fields = ["name", "url", "path"]

    @admin.display(boolean=True, description="secret")
    def has_secret(self, obj: Repository) -> bool:
        return bool(obj.webhook_secret)


class CommitBranchInline(admin.TabularInline):
    model = CommitBranch
    extra = 0
    can_delete = False
    readonly_fields = ["branch"]


class BugCommitInline(admin.TabularInline):
    model = BugCommit
    extra = 0
    can_delete = False
    readonly_fields = ["bug", "kind", "branch", "created_at"]


@admin.register(Commit)
class CommitAdmin(admin.ModelAdmin):
    list_display = ["sha", "repository", "author_name", "committed_at"]
    list_filter = ["repository"]
    list_select_related = ["repository"]
    search_fields = ["sha", "message"]
    readonly_fields = [f.name for f in Commit._meta.fields]
    inlines = [CommitBranchInline, BugCommitInline]

    def has_add_permission(self, request: Any) -> bool:
        return False
