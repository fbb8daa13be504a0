"""GET /api/v1/similar: the open bugs and tickets most like a title being written."""

from __future__ import annotations

from ninja import Query, Router

from sustain.bugs.similar.rank import MAX_TITLE, MIN_TITLE, parse_exclude, suggest
from sustain.bugs.similar.schemas import SimilarOut, SimilarQuery
from sustain.core.errors import Invalid
from sustain.core.http import ApiRequest

router = Router(tags=["bugs"])


def check_title(title: str) -> str:
    title = (title or "").strip()
    if len(title) < MIN_TITLE:
        raise Invalid(f"title must have at least {MIN_TITLE} characters.", field="title")
    if len(title) > MAX_TITLE:
        raise Invalid(f"title must have at most {MAX_TITLE} characters.", field="title")
    return title


@router.get("/similar", response=list[SimilarOut])
def similar(request: ApiRequest, params: Query[SimilarQuery]):
    """Up to `limit` (5) open bugs and tickets like `title`, most similar first (score 0-100).

    Customers get only what they may see: their organization's tickets and the bugs linked to
    them."""
    exclude_bug, exclude_ticket = parse_exclude(params.exclude)
    return suggest(
        request.auth,
        title=check_title(params.title),
        description=params.description,
        limit=params.limit,
        exclude_bug=exclude_bug,
        exclude_ticket=exclude_ticket,
    )
