"""The core of the CMDB: what the team maintains and what runs where, at which version."""

from __future__ import annotations

import re

from django.db import models
from django.utils import timezone

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$"
)


class Product(models.Model):
    """Software the team maintains."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = None

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="components")
    name = models.CharField(max_length=200)

    tenant_field = None

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="component_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.product.name} / {self.name}"


class Version(models.Model):
    """A semantic version of a product; the numeric parts are kept for ordering."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="versions")
    name = models.CharField(max_length=60)
    major = models.PositiveIntegerField()
    minor = models.PositiveIntegerField()
    patch = models.PositiveIntegerField()
    prerelease = models.CharField(max_length=60, blank=True, default="")
    released_at = models.DateTimeField(null=True, blank=True)

    tenant_field = None

    class Meta:
        ordering = ["product", "-major", "-minor", "-patch"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="version_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.product.name} {self.name}"


class ConfigItem(models.Model):
    """Anything that runs, owned by an organization; an environment records its product version."""

    class Kind(models.TextChoices):
        ENVIRONMENT = "environment"
        SERVER = "server"
        DATABASE = "database"
        SERVICE = "service"
        QUEUE = "queue"
        NETWORK = "network"
        STORAGE = "storage"
        OTHER = "other"

    class Status(models.TextChoices):
        ACTIVE = "active"
        PLANNED = "planned"
        RETIRED = "retired"

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="config_items"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="config_items"
    )
    version = models.ForeignKey(
        Version, null=True, blank=True, on_delete=models.PROTECT, related_name="config_items"
    )
    description = models.TextField(blank=True, default="")
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "organization"

    class Meta:
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="ci_unique_name_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Relation(models.Model):
    class Kind(models.TextChoices):
        DEPENDS_ON = "depends_on"
        RUNS_ON = "runs_on"
        PART_OF = "part_of"

    source = models.ForeignKey(ConfigItem, on_delete=models.CASCADE, related_name="relations_out")
    target = models.ForeignKey(ConfigItem, on_delete=models.CASCADE, related_name="relations_in")
    kind = models.CharField(max_length=20, choices=Kind.choices)

    tenant_field = "source__organization"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="relation_unique"),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="relation_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.target}"
