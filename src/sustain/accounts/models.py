"""Organizations (the customers and the provider), users, teams, roles and API tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def customers(self) -> OrganizationQuerySet:
        """The customers: every organization but the provider itself (never offered as one)."""
        return self.filter(is_provider=False)


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    is_provider = models.BooleanField(
        default=False, help_text="The organization that runs this Sustain: its staff are agents."
    )
    customers_see_all_tickets = models.BooleanField(
        default=True,
        help_text="Customer users see every ticket of their organization, not only their own.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrganizationQuerySet.as_manager()

    tenant_field = "id"

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    CUSTOMER = "customer"
    AGENT = "agent"
    MANAGER = "manager"
    ADMIN = "admin"


# The actor of what Sustain does by itself (escalations, webhooks, fix notices).
SYSTEM_EMAIL = "system@sustain.invalid"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def assignable(self) -> models.QuerySet[User]:
        """Staff who can take work: active agents, managers and admins, not the system actor."""
        return (
            self.get_queryset()
            .exclude(role=Role.CUSTOMER)
            .exclude(email=SYSTEM_EMAIL)
            .filter(is_active=True)
        )

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        """Log-in looks the address up regardless of case: Carol@Acme.com is carol@acme.com."""
        return self.get(email__iexact=(username or "").strip())

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        if "organization" not in fields and "organization_id" not in fields:
            fields["organization"] = Organization.objects.filter(is_provider=True).first() or (
                Organization.objects.create(name="Provider", slug="provider", is_provider=True)
            )
        fields.setdefault("name", email.split("@")[0])
        fields.update(role=Role.ADMIN, is_superuser=True, serves_all_organizations=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="users")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.CUSTOMER)
    serves_all_organizations = models.BooleanField(
        default=True, help_text="Agents only: serve every customer, or only those listed."
    )
    served_organizations = models.ManyToManyField(
        Organization, blank=True, related_name="agents", help_text="Agents only."
    )
    time_zone = models.CharField(max_length=64, blank=True, default="")
    # A language code of settings.LANGUAGES for the mail sent to this user; empty: the default.
    language = models.CharField(max_length=10, blank=True, default="")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []  # name defaults to the e-mail's local part
    tenant_field = "organization"

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_staff(self) -> bool:  # Django admin
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def is_agent(self) -> bool:
        """Agents, managers and admins all work tickets."""
        return self.role != Role.CUSTOMER

    @property
    def is_manager(self) -> bool:
        return self.role in (Role.MANAGER, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    def served_organization_ids(self) -> list[int]:
        cached = getattr(self, "_served_ids", None)
        if cached is None:
            cached = list(self.served_organizations.values_list("id", flat=True))
            self._served_ids = cached
        return cached

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class Team(models.Model):
    """An assignment group of agents, with a lead."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    lead = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="teams_led"
    )
    members = models.ManyToManyField(User, blank=True, related_name="teams")
    email = models.EmailField(blank=True, default="")

    tenant_field = None
    customer_visible = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token: shown once, stored as a SHA-256 digest, looked up by that digest."""

    class Scope(models.TextChoices):
        READ = "read"
        WRITE = "write"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, default="")
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise it.")
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.WRITE)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    tenant_field = "user__organization"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.email})"

    def is_usable(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class TokenFailure(models.Model):
    """One failed bearer-token authentication, kept for the throttle window only
    (sustain.accounts.token_throttle): a table, so every worker and machine sees one count."""

    # The client address, an IPv6 one as its /64 (one host holds the whole prefix).
    address = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # Is this address throttled? WHERE address = ? AND at > ? ORDER BY at DESC
            models.Index(fields=["address", "at"], name="token_failure_address_idx"),
            # Forgetting old failures: DELETE ... WHERE at < ?
            models.Index(fields=["at"], name="token_failure_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.address} at {self.at:%Y-%m-%d %H:%M:%S}"
