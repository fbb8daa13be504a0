"""Reading releases: what a user may see, list filters, the page's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from sustain.bugs.models import Bug
from sustain.cmdb.models import Product
from sustain.core import refs
from sustain.core.errors import Invalid
from sustain.core.events import for_target
from sustain.core.tenancy import visible
from sustain.releases.models import Kind, Release, Status

# Newest version first within a product (semantic version, never the date).
ORDER = ("product_id", "-version__major", "-version__minor", "-version__patch", "-id")


def releases_for(user: Any) -> QuerySet[Release]:
    """Staff see every release; customers the released ones of products they run."""
    return visible(Release.objects.all(), user).select_related(
        "product", "version", "previous__version", "repository", "approved_by"
    )


def product(user: Any, ref: str | None) -> Product:
    """A product by slug, else by id (an empty reference names none)."""
    ref = (ref or "").strip()
    found = refs.find(user, Product.objects.all(), ref, by=("slug", "pk"))
    if found is None:
        raise Invalid(f"No product '{ref[:60]}'.", field="product")
    return found


def bug_for(user: Any, key: str | None, field: str = "bug") -> Bug:
    """A bug the user may see, by key, for a release's contents (an unknown key names the field)."""
    bug = refs.find(user, Bug.objects.all(), (key or "").strip().upper(), by=("key",))
    if bug is None:
        raise Invalid(f"No bug {(key or '')[:20]}.", field=field)
    return bug


def release_for(user: Any, release_id: int) -> Release | None:
    if not 0 < release_id < 2**63:
        return None
    return releases_for(user).filter(pk=release_id).first()


@dataclass
class Filters:
    product: Product | None = None
    status: list[str] | None = None
    kind: str | None = None

    @classmethod
    def from_params(cls, params: Any, user: Any) -> Filters:
        filters = cls()
        if (params.get("product") or "").strip():
            filters.product = product(user, params["product"])
        status = [s.strip() for s in (params.get("status") or "").split(",") if s.strip()]
        for s in status:
            if s not in Status.values:
                raise Invalid(f"status must be among {', '.join(Status.values)}.", field="status")
        filters.status = status or None
        kind = (params.get("kind") or "").strip()
        if kind and kind not in Kind.values:
            raise Invalid(f"kind must be one of {', '.join(Kind.values)}.", field="kind")
        filters.kind = kind or None
        return filters

    def apply(self, qs: QuerySet[Release]) -> QuerySet[Release]:
        if self.product is not None:
            qs = qs.filter(product=self.product)
        if self.status:
            qs = qs.filter(status__in=self.status)
        if self.kind:
            qs = qs.filter(kind=self.kind)
        return qs


def with_counts(qs: QuerySet[Release]) -> QuerySet[Release]:
    return qs.annotate(bug_count=Count("bug_links", distinct=True))


def timeline(release: Release) -> list[Any]:
    return list(for_target(release).select_related("actor")[:500])
