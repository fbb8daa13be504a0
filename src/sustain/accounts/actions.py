"""Every change to organizations, users, teams and tokens goes through these functions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from sustain.accounts import tokens
from sustain.accounts.models import SYSTEM_EMAIL, ApiToken, Organization, Role, Team, User
from sustain.core import events, timezones
from sustain.core.compiled import Prepared
from sustain.core.errors import Conflict, Forbidden, Invalid, NotFound, refuse_unknown
from sustain.core.ids import as_id


def system_actor() -> User:
    """The actor of what Sustain does by itself (escalations): an admin that cannot log in."""
    user = User.objects.filter(email=SYSTEM_EMAIL).first()
    if user is None:
        provider = Organization.objects.filter(is_provider=True).order_by("id").first()
        if provider is None:
            provider = Organization.objects.create(
                name="Provider", slug="provider", is_provider=True
            )
        user = User.objects.create_user(
            SYSTEM_EMAIL, None, name="Sustain", organization=provider, role=Role.ADMIN
        )
    return user


def require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("Only administrators may do this.")


def require_agent(actor: User) -> None:
    if not actor.is_agent:
        raise Forbidden("Only agents may do this.")


def team_for_self(user: User, chosen: Team | None, current: Team | None) -> Team | None:
    """The team an "assign to me" lands in: the chosen one, else the current one,
    as long as the user belongs to it; otherwise the user's first team."""
    team = chosen or current
    if team is None or not team.members.filter(pk=user.pk).exists():
        team = user.teams.first()
    return team


SLUG_MAX = 60  # the slug columns' length


def make_slug(name: str, slug: str = "") -> str:
    """The slug given, or one made from the name (cut to fit); never empty or too long."""
    slug = (slug or "").strip() or slugify(name)[:SLUG_MAX].strip("-")
    if not slug:
        raise Invalid("Give a slug: none can be made from this name.", field="slug")
    if len(slug) > SLUG_MAX:
        raise Invalid(f"The slug is longer than {SLUG_MAX} characters.", field="slug")
    return slug


# Named on every ticket the API opens: compiled once (core.compiled).
_ORGANIZATION_BY_PK = Prepared(
    lambda pk: Organization.objects.filter(pk=pk).order_by("pk")[:1], pk=-7_000_000_011
)
_ORGANIZATION_BY_SLUG = Prepared(
    lambda slug: Organization.objects.filter(slug=slug).order_by("pk")[:1], slug="\x01slug"
)


def resolve_organization(ref: int | str | None, *, field: str = "organization") -> Organization:
    """An organization by id or slug."""
    if ref is None or ref == "":
        raise Invalid("An organization is required.", field=field)
    pk = as_id(ref)
    found = _ORGANIZATION_BY_PK.rows(pk=pk) if pk is not None else []
    found = found or _ORGANIZATION_BY_SLUG.rows(slug=str(ref))
    organization = found[0] if found else None
    if organization is None:
        raise Invalid(f"No organization '{ref}'.", field=field)
    return organization


def create_organization(
    actor: User,
    *,
    name: str,
    slug: str = "",
    is_provider: bool = False,
    customers_see_all_tickets: bool = True,
) -> Organization:
    require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise Invalid("A name is required.", field="name")
    slug = make_slug(name, slug)
    with transaction.atomic():
        if Organization.objects.filter(slug=slug).exists():
            raise Conflict(f"An organization with slug '{slug}' exists.", field="slug")
        if Organization.objects.filter(name=name).exists():
            raise Conflict(f"An organization named '{name}' exists.", field="name")
        organization = Organization.objects.create(
            name=name,
            slug=slug,
            is_provider=is_provider,
            customers_see_all_tickets=customers_see_all_tickets,
        )
        events.record(organization, "created", actor=actor, after={"name": name, "slug": slug})
    return organization


def update_organization(actor: User, organization: Organization, **changes: Any) -> Organization:
    require_admin(actor)
    allowed = {"name", "customers_see_all_tickets"}
    refuse_unknown(changes, allowed)
    with transaction.atomic():
        before = {k: getattr(organization, k) for k in changes}
        for key, value in changes.items():
            setattr(organization, key, value)
        organization.save()
        events.record(organization, "updated", actor=actor, before=before, after=changes)
    return organization


def create_user(
    actor: User | None,
    *,
    email: str,
    name: str,
    organization: Organization,
    role: str = Role.CUSTOMER,
    password: str | None = None,
    time_zone: str = "",
    serves_all_organizations: bool = True,
    served_organizations: list[Organization] | None = None,
) -> User:
    """Create a user; `actor` None is the command line (`sustain createsuperuser`, demo)."""
    if actor is not None:
        require_admin(actor)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise Invalid(f"'{email}' is not an e-mail address.", field="email") from None
    if not (name or "").strip():
        raise Invalid("A name is required.", field="name")
    if role not in Role.values:
        raise Invalid(f"Role must be one of {', '.join(Role.values)}.", field="role")
    if role == Role.CUSTOMER and organization.is_provider:
        raise Invalid("Customers belong to a customer organization.", field="organization")
    if role != Role.CUSTOMER and not organization.is_provider:
        raise Invalid("Agents, managers and admins belong to the provider.", field="organization")
    if time_zone and not timezones.is_known(time_zone):  # IANA names only, not "localtime"
        raise Invalid(f"Unknown time zone '{time_zone}'.", field="time_zone")
    if password:
        try:
            validate_password(password)
        except ValidationError as exc:
            raise Invalid(" ".join(exc.messages), field="password") from None
    with transaction.atomic():
        if User.objects.filter(email=email).exists():
            raise Conflict(f"A user with e-mail {email} exists.", field="email")
        user = User.objects.create_user(
            email,
            password,
            name=name.strip(),
            organization=organization,
            role=role,
            time_zone=time_zone,
            serves_all_organizations=serves_all_organizations,
        )
        if served_organizations:
            user.served_organizations.set(served_organizations)
        events.record(
            user, "created", actor=actor, after={"email": email, "role": role, "name": user.name}
        )
    return user


def create_team(
    actor: User,
    *,
    name: str,
    slug: str = "",
    lead: User | None = None,
    members: list[User] | None = None,
) -> Team:
    require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise Invalid("A name is required.", field="name")
    slug = make_slug(name, slug)
    members = members or []
    for person in [lead, *members]:
        if person is not None and not person.is_agent:
            raise Invalid(f"{person.email} is not an agent.", field="members")
    with transaction.atomic():
        if Team.objects.filter(slug=slug).exists() or Team.objects.filter(name=name).exists():
            raise Conflict(f"A team named '{name}' exists.", field="name")
        team = Team.objects.create(name=name, slug=slug, lead=lead)
        team.members.set([m for m in {*members, lead} if m is not None])
        events.record(team, "created", actor=actor, after={"name": name})
    return team


def create_token(
    actor: User | None,
    user: User,
    *,
    name: str = "",
    expires_in_days: int | None = None,
    scope: str = ApiToken.Scope.WRITE,
) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the raw token, which is never stored."""
    if actor is not None and actor.pk != user.pk:
        require_admin(actor)
    if expires_in_days is not None and expires_in_days <= 0:
        raise Invalid("Expiry must be a positive number of days.", field="expires")
    if scope not in ApiToken.Scope.values:
        raise Invalid("Scope must be read or write.", field="scope")
    raw = tokens.new_raw_token()
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=raw[:12],
            digest=tokens.digest(raw),
            scope=scope,
            expires_at=expires_at,
        )
        events.record(
            token,
            "created",
            actor=actor,
            organization_id=user.organization_id,
            after={"prefix": token.prefix, "expires_at": str(expires_at or "")},
            is_public=False,
        )
    return token, raw


def revoke_token(actor: User, token: ApiToken) -> ApiToken:
    if actor.pk != token.user_id:
        require_admin(actor)
    if token.revoked_at:
        raise NotFound("This token is already revoked.")
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        events.record(
            token,
            "revoked",
            actor=actor,
            organization_id=token.user.organization_id,
            is_public=False,
        )
    return token
