"""REST endpoints of source repositories: their management (administrators write, agents
read), the commits seen, and the push webhook that GitHub, Gitea and GitLab call.

The webhook, `POST /api/v1/vcs/repositories/{repository_id}/push`, takes no user
authentication: it is proven by the repository's secret (a signature of the raw body, or
GitLab's token). Set the same secret in the provider's webhook settings, content type JSON,
event "push". A push fixes the bugs its commits name (`Fixes BUG-12`) when its branch counts
for the repository (the default branch or one of `branch_patterns`); replaying it changes
nothing. GitLab details at most 20 commits per push (GitHub 2048): `sustain vcs scan` of a
clone catches up on longer pushes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404
from ninja import Field, Query, Router, Schema, Status

from sustain.accounts.actions import system_actor
from sustain.bugs.models import BugCommit, Commit, CommitBranch, Repository
from sustain.bugs.vcs import payloads, repositories
from sustain.bugs.vcs.actions import Result, record_commits
from sustain.bugs.vcs.messages import normalize_key
from sustain.cmdb import refs
from sustain.core.api import ErrorOut, Id, Input, Page, Patch
from sustain.core.errors import Invalid
from sustain.core.http import ApiRequest
from sustain.core.ids import as_id
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible

router = Router(tags=["vcs"])

ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class RepositoryOut(Schema):
    id: int
    name: str
    product: str | None = Field(None, alias="product.slug")
    provider: str
    url: str
    path: str
    default_branch: str
    branch_patterns: list[str]
    has_secret: bool = Field(description="Whether a webhook secret is set (it is never shown).")
    push_url: str = Field(description="Where the provider's push webhook posts.")
    created_at: datetime

    @staticmethod
    def resolve_has_secret(repository: Repository) -> bool:
        return bool(repository.webhook_secret)

    @staticmethod
    def resolve_push_url(repository: Repository) -> str:
        return f"/api/v1/vcs/repositories/{repository.pk}/push"


PATTERNS: Any = Field(
    default_factory=list,
    max_length=50,
    description="fnmatch patterns of the branches that count besides the default branch, "
    'e.g. ["release/*", "*.x"].',
)


class RepositoryIn(Input):
    name: str = Field(min_length=1, max_length=200)
    product: str | None = Field(None, description="The product (slug or id) it builds.")
    provider: Repository.Provider = Repository.Provider.LOCAL
    url: str = Field("", max_length=500)
    path: str = Field("", max_length=500, description="A local clone, for scans and tags.")
    default_branch: str = Field("main", min_length=1, max_length=200)
    branch_patterns: list[str] = PATTERNS
    webhook_secret: str = Field(
        "", max_length=200, description="At least 16 characters; write-only. Empty: no pushes."
    )


class RepositoryPatch(Patch):
    clearable = frozenset({"product"})

    name: str | None = Field(None, min_length=1, max_length=200)
    product: str | None = None
    provider: Repository.Provider | None = None
    url: str | None = Field(None, max_length=500)
    path: str | None = Field(None, max_length=500)
    default_branch: str | None = Field(None, min_length=1, max_length=200)
    branch_patterns: list[str] | None = Field(None, max_length=50)
    webhook_secret: str | None = Field(None, max_length=200, description="Empty: remove it.")


class BugLinkOut(Schema):
    bug: str = Field(alias="bug.key")
    kind: str
    branch: str


class CommitOut(Schema):
    id: int
    repository: str = Field(alias="repository.name")
    sha: str
    subject: str
    message: str
    author_name: str
    author_email: str
    committed_at: datetime | None
    url: str
    branches: list[str]
    bugs: list[BugLinkOut]

    @staticmethod
    def resolve_branches(commit: Commit) -> list[str]:
        return sorted(b.branch for b in commit.branches.all())

    @staticmethod
    def resolve_bugs(commit: Commit) -> list[Any]:
        return list(commit.bug_links.all())


class CommitFilters(Schema):
    bug: str | None = Field(None, description="Commits naming this bug (key).")
    repository: str | None = Field(None, description="Repository name or id.")
    branch: str | None = Field(None, description="Commits seen on this branch.")
    cursor: str | None = None
    limit: int | None = Field(None, ge=1, le=200)


class RepositoryFilters(Schema):
    q: str | None = Field(None, description="Part of the name.")
    product: str | None = Field(None, description="Product slug.")
    cursor: str | None = None
    limit: int | None = Field(None, ge=1, le=200)


class PushOut(Schema):
    provider: str
    event: str
    branch: str
    counts: bool = Field(description="Whether commits on this branch fix bugs.")
    seen: int
    new: int
    on_branch: int = Field(description="Commits seen on this branch for the first time.")
    links: int = Field(description="New links between a commit and a bug it names.")
    fixed: list[str]
    linked: list[str]
    pending: list[str] = Field(description="Bugs fixed on a branch that does not count.")
    unknown: list[str] = Field(description="Keys named that are no bug.")
    refused: list[dict[str, str]]


class IgnoredOut(Schema):
    detail: str


def _repositories(request: ApiRequest) -> QuerySet[Repository]:
    return visible(Repository.objects.select_related("product"), request.auth)


def _repository(request: ApiRequest, repository_id: Id) -> Repository:
    found = _repositories(request).filter(pk=repository_id).first()
    if found is None:
        raise Http404("No such repository.")
    return found


@router.get("/vcs/repositories", response=Page[RepositoryOut])
def list_repositories(request: ApiRequest, filters: Query[RepositoryFilters]):
    """Repositories by name (agents; customers see none)."""
    qs = _repositories(request)
    if filters.q:
        qs = qs.filter(name__icontains=filters.q)
    if filters.product:
        qs = qs.filter(product__slug=filters.product)
    rows, next_url = paginate(
        request, qs, order=("name",), limit=filters.limit, cursor=filters.cursor
    )
    return {"results": rows, "next": next_url}


@router.post("/vcs/repositories", response={201: RepositoryOut})
def create_repository(request: ApiRequest, payload: RepositoryIn):
    data = payload.dict()
    data["product"] = refs.product(request.auth, data["product"])
    return Status(201, repositories.create_repository(request.auth, **data))


@router.get("/vcs/repositories/{repository_id}", response=RepositoryOut)
def get_repository(request: ApiRequest, repository_id: Id):
    return _repository(request, repository_id)


@router.patch("/vcs/repositories/{repository_id}", response=RepositoryOut)
def update_repository(request: ApiRequest, repository_id: Id, payload: RepositoryPatch):
    repository = _repository(request, repository_id)
    changes = payload.dict(exclude_unset=True)
    if "product" in changes:
        changes["product"] = refs.product(request.auth, changes["product"])
    return repositories.update_repository(request.auth, repository, **changes)


@router.delete("/vcs/repositories/{repository_id}", response={204: None})
def delete_repository(request: ApiRequest, repository_id: Id):
    """Remove the repository and its commits (administrators)."""
    repositories.delete_repository(request.auth, _repository(request, repository_id))
    return Status(204, None)


def _commits(request: ApiRequest, filters: CommitFilters) -> QuerySet[Commit]:
    qs = visible(Commit.objects.all(), request.auth).select_related("repository")
    qs = qs.prefetch_related(
        Prefetch("branches", queryset=CommitBranch.objects.order_by("branch")),
        Prefetch("bug_links", queryset=BugCommit.objects.select_related("bug").order_by("id")),
    )
    if filters.bug:
        try:
            key = normalize_key(filters.bug)
        except ValueError:
            raise Invalid(f"'{filters.bug[:40]}' is not a bug key.", field="bug") from None
        links = BugCommit.objects.filter(commit=OuterRef("pk"), bug__key=key)
        qs = qs.filter(Exists(links))
    if filters.branch:
        on_branch = CommitBranch.objects.filter(commit=OuterRef("pk"), branch=filters.branch)
        qs = qs.filter(Exists(on_branch))
    return qs


@router.get("/vcs/commits", response=Page[CommitOut])
def list_commits(request: ApiRequest, filters: Query[CommitFilters]):
    """Commits seen, newest first: `?bug=BUG-12` lists those that fix or name a bug."""
    qs = _commits(request, filters)
    if filters.repository:
        pk = as_id(filters.repository)
        qs = (
            qs.filter(repository_id=pk)
            if pk is not None
            else qs.filter(repository__name=filters.repository)
        )
    rows, next_url = paginate(
        request, qs, order=("-id",), limit=filters.limit, cursor=filters.cursor
    )
    return {"results": rows, "next": next_url}


@router.get("/vcs/repositories/{repository_id}/commits", response=Page[CommitOut])
def list_repository_commits(request: ApiRequest, repository_id: Id, filters: Query[CommitFilters]):
    repository = _repository(request, repository_id)
    qs = _commits(request, filters).filter(repository=repository)
    rows, next_url = paginate(
        request, qs, order=("-id",), limit=filters.limit, cursor=filters.cursor
    )
    return {"results": rows, "next": next_url}


@router.post(
    "/vcs/repositories/{repository_id}/push",
    auth=None,
    response={200: PushOut, 202: IgnoredOut, 413: ErrorOut, 422: ErrorOut, **ERRORS},
)
def push(request: ApiRequest, repository_id: Id):
    """The push webhook (no bearer token: the provider signs the body with the repository's
    secret). `ping` answers 200; other events and tag pushes are accepted and ignored (202)."""
    length = as_id(request.META.get("CONTENT_LENGTH") or "0") or 0
    if length > payloads.MAX_BODY:
        raise payloads.TooLarge(f"The body is larger than {payloads.MAX_BODY} bytes.")
    repository = Repository.objects.filter(pk=repository_id).first()
    if repository is None:
        raise Http404("No such repository.")
    body = request.body
    if len(body) > payloads.MAX_BODY:
        raise payloads.TooLarge(f"The body is larger than {payloads.MAX_BODY} bytes.")
    provider = payloads.authenticate(repository, request.headers, body)
    event = payloads.event_of(provider, request.headers)
    if event == "ping":
        return Status(200, {"provider": provider, "event": event, **Result("", False).summary()})
    if event != "push":
        return Status(202, {"detail": f"Event '{event or '(none)'}' ignored: only pushes count."})
    parsed = payloads.parse_push(payloads.json_of(body, request.content_type or ""))
    if parsed.branch is None:
        return Status(202, {"detail": f"{parsed.ref} is not a branch: ignored."})
    result = record_commits(
        system_actor(), repository, branch=parsed.branch, commits=parsed.commits
    )
    return {"provider": provider, "event": event, **result.summary()}
