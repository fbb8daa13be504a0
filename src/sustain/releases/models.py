"""Releases (a product version with its fixes, notes and test evidence) and deployments."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone


class Kind(models.TextChoices):
    MAJOR = "major"
    MINOR = "minor"
    PATCH = "patch"
    HOTFIX = "hotfix"


class Status(models.TextChoices):
    PLANNED = "planned"
    TESTING = "testing"
    APPROVED = "approved"
    RELEASED = "released"
    WITHDRAWN = "withdrawn"


class Release(models.Model):
    """A version of a product on its way out: contents, notes, tests, approval."""

    product = models.ForeignKey("cmdb.Product", on_delete=models.PROTECT, related_name="releases")
    # The CMDB version this release is; environments run versions, deployments set them.
    version = models.OneToOneField("cmdb.Version", on_delete=models.PROTECT, related_name="release")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    # The release before this one on its line (by semantic version), when there is one.
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Commits between two tags of a scanned repository also name the bugs it carries.
    repository = models.ForeignKey(
        "bugs.Repository", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_tag = models.CharField(max_length=200, blank=True, default="")
    to_tag = models.CharField(max_length=200, blank=True, default="")
    summary = models.TextField(blank=True, default="")
    known_issues = models.TextField(blank=True, default="")
    # Markdown; generated from the contents until someone edits them by hand.
    customer_notes = models.TextField(blank=True, default="")
    internal_notes = models.TextField(blank=True, default="")
    notes_edited = models.BooleanField(default=False)
    planned_for = models.DateField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # An admin's approval despite a failing quality gate keeps its reason on the record.
    gate_override_reason = models.TextField(blank=True, default="")
    released_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    tenant_field = None

    class Meta:
        ordering = ["product", "-version__major", "-version__minor", "-version__patch"]
        indexes = [models.Index(fields=["product", "status"], name="release_product_status_idx")]

    def __str__(self) -> str:
        return f"{self.product} {self.version.name}"

    @property
    def name(self) -> str:
        return self.version.name

    @classmethod
    def customer_scope(cls, queryset: QuerySet, user: Any) -> QuerySet:
        """Customers see released versions of the products their organization runs."""
        return queryset.filter(
            status=Status.RELEASED,
            product__config_items__organization_id=user.organization_id,
        ).distinct()


class ReleaseBug(models.Model):
    """A bug fixed in a release."""

    class Source(models.TextChoices):
        TARGET = "target", "target release"
        COMMITS = "commits", "commits between tags"
        MANUAL = "manual"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="bug_links")
    bug = models.ForeignKey("bugs.Bug", on_delete=models.CASCADE, related_name="release_links")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = None
    customer_visible = False

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "bug"], name="release_bug_unique"),
        ]
        indexes = [models.Index(fields=["bug"], name="release_bug_bug_idx")]

    def __str__(self) -> str:
        return f"{self.release_id} fixes {self.bug_id}"


class ReleaseChange(models.Model):
    """Anything else a release carries: a feature, an improvement, a security fix."""

    class Kind(models.TextChoices):
        FEATURE = "feature"
        IMPROVEMENT = "improvement"
        SECURITY = "security"
        OTHER = "other"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.IMPROVEMENT)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, default="")
    # Internal changes appear in the internal notes only.
    is_public = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["release", "id"]

    def __str__(self) -> str:
        return self.title


class TestRun(models.Model):
    """Test evidence for a release, reported by a CI system through the API."""

    __test__ = False  # not a pytest class

    class Result(models.TextChoices):
        PASSED = "passed"
        FAILED = "failed"
        SKIPPED = "skipped"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="test_runs")
    name = models.CharField(max_length=200, default="tests")
    result = models.CharField(max_length=10, choices=Result.choices)
    url = models.URLField(max_length=500, blank=True, default="")
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = None
    customer_visible = False

    class Meta:
        indexes = [models.Index(fields=["release", "id"], name="test_run_release_idx")]

    def __str__(self) -> str:
        return f"{self.release_id} {self.name} {self.result}"


class Deployment(models.Model):
    """A release put onto an environment (a configuration item of an organization)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        ROLLED_BACK = "rolled_back", "Rolled back"

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="deployments")
    environment = models.ForeignKey(
        "cmdb.ConfigItem", on_delete=models.PROTECT, related_name="deployments"
    )
    # The environment's organization, kept on the row for tenancy and per-customer lists.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="deployments"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    # The version the environment ran before; a rollback returns it there.
    previous_version = models.ForeignKey(
        "cmdb.Version", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scheduled_for = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    tenant_field = "organization"

    class Meta:
        indexes = [
            models.Index(fields=["environment", "id"], name="deployment_env_idx"),
            models.Index(fields=["release", "status"], name="deployment_release_idx"),
            # At most one deployment in flight per environment is enforced by the constraint.
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["environment"],
                condition=Q(status="in_progress"),
                name="deployment_one_in_progress_per_env",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.release} → {self.environment_id} ({self.status})"
