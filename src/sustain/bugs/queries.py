"""Read side of the bug tracker: the lists behind the pages and the API, one bug with what its
page shows, and its timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from sustain.bugs.models import Bug, BugComment, BugTicket, Severity, Status
from sustain.cmdb.models import ConfigItem, Product
from sustain.core.errors import Invalid
from sustain.core.events import for_target
from sustain.core.filters import by_person, by_team, id_of, matching, param_list
from sustain.core.ids import as_id
from sustain.core.models import Event, Priority
from sustain.core.tenancy import customer_scope, served_organization_ids, visible

ORDERS: dict[str, tuple[str, ...]] = {
    "newest": ("-id",),
    "created": ("-id",),
    "oldest": ("id",),
    "updated": ("-updated_at", "-id"),
    "priority": ("priority", "-id"),
    # Most customers hit first, then most incidents, then the oldest report.
    "impact": ("-organization_count", "-incident_count", "id"),
}
TRUE = {"1", "true", "yes", "on"}


@dataclass
class BugFilters:
    status: list[str] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)
    priority: list[int] = field(default_factory=list)
    product: str = ""
    component: str = ""
    assignee: str = ""
    team: str = ""
    q: str = ""
    triage: bool = False
    regression: bool = False
    open: bool = False
    order: str = "newest"

    @classmethod
    def from_params(cls, params: Any) -> BugFilters:
        """From a query string (web) or a ninja schema's dict (API); names the bad field."""
        get = params.get

        filters = cls(
            status=param_list(params, "status"),
            severity=param_list(params, "severity"),
            product=str(get("product") or ""),
            component=str(get("component") or ""),
            assignee=str(get("assignee") or ""),
            team=str(get("team") or ""),
            q=str(get("q") or "").strip(),
            triage=str(get("triage") or "").lower() in TRUE,
            regression=str(get("regression") or "").lower() in TRUE,
            open=str(get("open") or "").lower() in TRUE,
            order=str(get("order") or ("impact" if get("triage") else "newest")),
        )
        for status in filters.status:
            if status not in Status.values:
                raise Invalid(f"Unknown status '{status}'.", field="status")
        for severity in filters.severity:
            if severity not in Severity.values:
                raise Invalid(f"Unknown severity '{severity}'.", field="severity")
        try:
            filters.priority = [int(p) for p in param_list(params, "priority")]
        except ValueError:
            raise Invalid("priority must be 1, 2, 3 or 4.", field="priority") from None
        if any(p not in Priority.values for p in filters.priority):
            raise Invalid("priority must be 1, 2, 3 or 4.", field="priority")
        if filters.order not in ORDERS:
            raise Invalid(f"order must be one of {', '.join(ORDERS)}.", field="order")
        return filters


# The filters that are one field lookup each.
BUG_LOOKUPS = {
    "status": "status__in",
    "severity": "severity__in",
    "priority": "priority__in",
}


def bugs_for(user: Any, filters: BugFilters) -> QuerySet[Bug]:
    """The bugs `user` may see that match `filters` (not yet ordered or paged)."""
    qs = visible(Bug.objects.all(), user)
    if filters.triage:
        qs = qs.filter(status=Status.NEW)
    if filters.open:
        qs = qs.filter(status__in=(Status.NEW, Status.TRIAGED, Status.IN_PROGRESS))
    if filters.regression:
        qs = qs.filter(is_regression=True)
    qs = _by_product(matching(qs, filters, BUG_LOOKUPS), filters)
    if not user.is_customer:  # customers filter neither by team nor by assignee
        if filters.team:
            qs = by_team(qs, filters.team)
        if filters.assignee:
            qs = by_person(qs, "assignee", filters.assignee, user)
    if filters.q:
        qs = Bug.search_index.filter(qs, filters.q)
    return qs


def _by_product(qs: QuerySet[Bug], filters: BugFilters) -> QuerySet[Bug]:
    """Bugs of the product and component named by id, slug or (component) name."""
    if filters.product:
        pk = as_id(filters.product)
        lookup = {"pk": pk} if pk is not None else {"slug": filters.product}
        qs = qs.filter(product_id=id_of(Product, **lookup))
    if filters.component:
        pk = as_id(filters.component)
        if pk is not None:
            qs = qs.filter(component_id=pk)
        else:
            qs = qs.filter(component__name__iexact=filters.component)
    return qs


def with_list_relations(qs: QuerySet[Bug]) -> QuerySet[Bug]:
    """What a list row (page or API) shows, in a fixed number of queries whatever the page
    size: the product joined, the optional relations one query each (as the desk does)."""
    return qs.select_related("product").prefetch_related(
        "component",
        "team",
        "assignee",
        "reporter",
        "duplicate_of",
        "regressed_in",
        "environment",
        "target_release__version",
        "affected_versions",
        "lines__introduced_in",
        "lines__planned_version",
        "lines__fixed_version",
        "lines__fixed_by",
    )


def bug_for(user: Any, key: str) -> Bug | None:
    """One bug with what its page and the API show, if `user` may see it."""
    qs = visible(Bug.objects.all(), user).select_related(
        "product",
        "component",
        "environment__organization",
        "team__lead",
        "assignee",
        "reporter",
        "duplicate_of",
        "regressed_in",
        "target_release__version",
    )
    qs = qs.prefetch_related(
        "affected_versions",
        "lines__fixed_version",
        "lines__planned_version",
        "lines__introduced_in",
        "lines__fixed_by",
    )
    return qs.filter(key=(key or "").upper()).first()


def environment_visible(user: Any, bug: Bug) -> bool:
    """The environment belongs to one customer: shown to those who serve it (or are it)."""
    if bug.environment is None:
        return False
    org_ids = served_organization_ids(user)
    return org_ids is None or bug.environment.organization_id in org_ids


def ticket_links(user: Any, bug: Bug) -> QuerySet[BugTicket]:
    """The bug's incidents the user may see, newest first."""
    return (
        visible(BugTicket.objects.filter(bug=bug), user)
        .select_related("ticket__organization", "ticket__affected_ci")
        .order_by("-id")
    )


def _events(user: Any, bug: Bug) -> QuerySet[Event]:
    qs = customer_scope(for_target(bug).select_related("actor"), user)
    org_ids = served_organization_ids(user)
    if org_ids is not None:
        # Events naming an incident are tied to its customer; others see the rest.
        qs = qs.filter(Q(organization_id__isnull=True) | Q(organization_id__in=org_ids))
    return qs


def timeline(user: Any, bug: Bug) -> list[Any]:
    """Comments and events in order; customers see the public ones only."""
    comments = visible(BugComment.objects.filter(bug=bug), user).select_related("author")
    comments = comments.prefetch_related("attachments").order_by("id")
    events = _events(user, bug).exclude(verb__in=("commented", "noted"))
    items: list[Any] = [*comments, *events]
    items.sort(key=lambda item: (item.created_at, item.pk))
    return items


def events_for(user: Any, bug: Bug) -> QuerySet[Event]:
    return _events(user, bug)


def environment_choices(user: Any) -> list[tuple[int, str]]:
    """The environments a bug may be seen on, by name, for a picker: those of the customers
    `user` serves ("acme-production · Acme"), at most a few hundred."""
    qs = visible(ConfigItem.objects.filter(kind=ConfigItem.Kind.ENVIRONMENT), user)
    qs = qs.select_related("organization").order_by("organization__name", "name")[:500]
    return [(ci.pk, f"{ci.name} · {ci.organization.name}") for ci in qs]
