"""REST endpoints for organizations, users, teams and API tokens."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from sustain.accounts import actions, refs
from sustain.accounts.models import ApiToken, Organization, Role, Team, User
from sustain.core.api import Id, Input, Page, Patch
from sustain.core.errors import Invalid
from sustain.core.http import ApiRequest
from sustain.core.pagination import paginate
from sustain.core.refs import resolve_or_404
from sustain.core.tenancy import visible

router = Router(tags=["accounts"])


class OrganizationOut(Schema):
    id: int
    name: str
    slug: str
    is_provider: bool
    customers_see_all_tickets: bool
    created_at: datetime


class OrganizationIn(Input):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field("", max_length=60, pattern=r"^[-a-zA-Z0-9_]*$")
    customers_see_all_tickets: bool = True


class OrganizationPatch(Patch):
    name: str | None = Field(None, min_length=1, max_length=200)
    customers_see_all_tickets: bool | None = None


class UserOut(Schema):
    id: int
    email: str
    name: str
    organization: str = Field(alias="organization.slug")
    role: str
    is_active: bool
    time_zone: str


class UserIn(Input):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field(min_length=1, max_length=200)
    organization: int | str
    role: Role = Role.CUSTOMER
    password: str | None = Field(None, max_length=200)
    time_zone: str = Field("", max_length=64)


class TeamOut(Schema):
    id: int
    name: str
    slug: str
    lead: str | None = Field(None, alias="lead.email")
    members: list[str]

    @staticmethod
    def resolve_members(team: Team) -> list[str]:
        return [m.email for m in team.members.all()]


class TeamIn(Input):
    name: str = Field(min_length=1, max_length=100)
    slug: str = Field("", max_length=60, pattern=r"^[-a-zA-Z0-9_]*$")
    lead: str | None = None
    members: list[str] = []


class TokenIn(Input):
    name: str = Field("", max_length=100)
    expires_in_days: int | None = Field(None, ge=1, le=3650)
    scope: ApiToken.Scope = ApiToken.Scope.WRITE


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str


class ListFilters(Schema):
    q: str | None = Field(None, max_length=200)
    cursor: str | None = None
    limit: int | None = Field(None, ge=1, le=200)


def _user_by_ref(actor: User, ref: str, field: str) -> User:
    # An empty reference names nobody ("No user ''."), as any other that matches no one.
    user = refs.user(actor, ref, field) if ref else None
    if user is None:
        raise Invalid(f"No user '{ref}'.", field=field)
    return user


@router.get("/organizations", response=Page[OrganizationOut])
def list_organizations(request: ApiRequest, filters: Query[ListFilters]):
    qs = visible(Organization.objects.all(), request.auth)
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(slug__icontains=filters.q))
    rows, next_url = paginate(
        request, qs, order=("id",), limit=filters.limit, cursor=filters.cursor
    )
    return {"results": rows, "next": next_url}


@router.post("/organizations", response={201: OrganizationOut})
def create_organization(request: ApiRequest, payload: OrganizationIn):
    return Status(201, actions.create_organization(request.auth, **payload.dict()))


@router.get("/organizations/{ref}", response=OrganizationOut)
def get_organization(request: ApiRequest, ref: str):
    return resolve_or_404(request.auth, Organization.objects.all(), ref)


@router.patch("/organizations/{ref}", response=OrganizationOut)
def update_organization(request: ApiRequest, ref: str, payload: OrganizationPatch):
    organization = get_organization(request, ref)
    return actions.update_organization(
        request.auth, organization, **payload.dict(exclude_unset=True)
    )


@router.get("/users", response=Page[UserOut])
def list_users(request: ApiRequest, filters: Query[ListFilters], role: Role | None = None):
    qs = visible(User.objects.select_related("organization"), request.auth)
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(email__icontains=filters.q))
    if role:
        qs = qs.filter(role=role)
    rows, next_url = paginate(
        request, qs, order=("id",), limit=filters.limit, cursor=filters.cursor
    )
    return {"results": rows, "next": next_url}


@router.post("/users", response={201: UserOut})
def create_user(request: ApiRequest, payload: UserIn):
    data = payload.dict()
    data["organization"] = actions.resolve_organization(data["organization"])
    return Status(201, actions.create_user(request.auth, **data))


@router.get("/users/{user_id}", response=UserOut)
def get_user(request: ApiRequest, user_id: Id):
    return get_object_or_404(
        visible(User.objects.select_related("organization"), request.auth), pk=user_id
    )


@router.get("/me", response=UserOut)
def me(request: ApiRequest):
    return request.auth


@router.get("/teams", response=Page[TeamOut])
def list_teams(request: ApiRequest, filters: Query[ListFilters]):
    qs = visible(Team.objects.select_related("lead").prefetch_related("members"), request.auth)
    if filters.q:
        qs = qs.filter(name__icontains=filters.q)
    rows, next_url = paginate(
        request, qs, order=("id",), limit=filters.limit, cursor=filters.cursor
    )
    return {"results": rows, "next": next_url}


@router.post("/teams", response={201: TeamOut})
def create_team(request: ApiRequest, payload: TeamIn):
    actor = request.auth
    lead = _user_by_ref(actor, payload.lead, "lead") if payload.lead else None
    members = [_user_by_ref(actor, m, "members") for m in payload.members]
    return Status(
        201,
        actions.create_team(
            actor, name=payload.name, slug=payload.slug, lead=lead, members=members
        ),
    )


@router.get("/teams/{ref}", response=TeamOut)
def get_team(request: ApiRequest, ref: str):
    return resolve_or_404(request.auth, Team.objects.select_related("lead"), ref)


@router.get("/tokens", response=list[TokenOut])
def list_tokens(request: ApiRequest):
    return list(request.auth.api_tokens.order_by("-id")[:200])


@router.post("/tokens", response={201: NewTokenOut})
def create_token(request: ApiRequest, payload: TokenIn):
    token, raw = actions.create_token(
        request.auth,
        request.auth,
        name=payload.name,
        expires_in_days=payload.expires_in_days,
        scope=payload.scope,
    )
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": raw})


@router.delete("/tokens/{token_id}", response={204: None})
def revoke_token(request: ApiRequest, token_id: Id):
    token = get_object_or_404(request.auth.api_tokens, pk=token_id)
    actions.revoke_token(request.auth, token)
    return Status(204, None)
