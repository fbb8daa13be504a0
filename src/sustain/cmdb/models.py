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


class ConfigDocument(models.Model):
    """A configuration file kept for an item (`nginx.conf`); its versions are its history, the
    latest is the approved baseline that observed copies are compared with."""

    class Format(models.TextChoices):
        YAML = "yaml"
        JSON = "json"
        INI = "ini"
        TOML = "toml"
        TEXT = "text"

    item = models.ForeignKey(ConfigItem, on_delete=models.CASCADE, related_name="documents")
    name = models.CharField(max_length=200)
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.TEXT)
    # What drift ignores: [{"kind": "key" | "line", "pattern": regex}].
    ignore_rules = models.JSONField(default=list, blank=True)
    open_ticket_on_drift = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # The last copy an agent or CI job reported.
    observed_text = models.TextField(blank=True, default="")
    observed_at = models.DateTimeField(null=True, blank=True)

    tenant_field = "item__organization"
    customer_visible = False

    class Meta:
        ordering = ["item", "name"]
        constraints = [
            models.UniqueConstraint(fields=["item", "name"], name="config_document_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.item.name}: {self.name}"


class ConfigVersion(models.Model):
    """One saved version of a document: never changed; a rollback is a new version."""

    document = models.ForeignKey(ConfigDocument, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text = models.TextField(blank=True, default="")
    digest = models.CharField(max_length=64)
    message = models.CharField(max_length=500, blank=True, default="")
    author = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    restored_from = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "document__item__organization"
    customer_visible = False

    class Meta:
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="config_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"


class Drift(models.Model):
    """An episode of an item differing from what was approved: a document's observed copy from
    its baseline, or an installed version that no deployment explains. Open while
    `cleared_at` is empty; one open episode per (item, document or version)."""

    class Kind(models.TextChoices):
        CONFIG = "config"
        VERSION = "version"

    item = models.ForeignKey(ConfigItem, on_delete=models.CASCADE, related_name="drifts")
    document = models.ForeignKey(
        ConfigDocument, null=True, blank=True, on_delete=models.CASCADE, related_name="drifts"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    detail = models.CharField(max_length=500, blank=True, default="")
    since = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(
        "desk.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    tenant_field = "item__organization"
    customer_visible = False

    class Meta:
        ordering = ["-since"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "document", "kind"],
                condition=models.Q(cleared_at__isnull=True),
                name="drift_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"drift on {self.item.name} ({self.kind})"
