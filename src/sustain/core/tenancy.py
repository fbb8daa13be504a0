"""Tenancy scoping: the one place that decides which rows a user may see.

A model names the path to its owning organization in `tenant_field` (None for rows that
belong to nobody, such as products); with `tenant_optional = True`, a row whose organization
is empty is shared by all (a calendar for everyone beside a customer's own). A model may
narrow what customers see further with a classmethod `customer_scope(queryset, user)`
(internal comments, other people's tickets), written with the one rule below,
`customer_scope()`: customers see public rows only, and their own tickets only when their
organization does not share tickets among its people. Rows with no model of their own there
(events on a timeline) are passed through `customer_scope()` directly; `customer_sees()` is
the same rule in Python, for one loaded row.
Views and endpoints never filter by organization themselves; they call `visible`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)


def served_organization_ids(user: Any) -> list[int] | None:
    """Organizations whose rows the user may see; None means all of them."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_customer:
        return [user.organization_id]
    if user.serves_all_organizations or user.is_manager:
        return None
    return [user.organization_id, *user.served_organization_ids()]


def visible(queryset: QuerySet[M], user: Any) -> QuerySet[M]:
    """The rows of `queryset` that `user` may read."""
    model = queryset.model
    field = getattr(model, "tenant_field", None)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if user.is_customer and not getattr(model, "customer_visible", True):
        return queryset.none()
    org_ids = served_organization_ids(user)
    if field is not None and org_ids is not None:
        condition = Q(**{f"{field}__in": org_ids})
        if getattr(model, "tenant_optional", False):
            condition |= Q(**{f"{field}__isnull": True})  # shared by every organization
        queryset = queryset.filter(condition)
    if user.is_customer and hasattr(model, "customer_scope"):
        queryset = model.customer_scope(queryset, user)  # type: ignore[attr-defined]
    return queryset


def visibility_key(user: Any) -> tuple[Any, ...]:
    """Everything of `user` that `visible()` (and the models' customer scopes) decide by: two
    users with the same key see the same rows, so a statement compiled for one serves the
    other (core.compiled)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ("nobody",)
    org_ids = served_organization_ids(user)
    if user.is_customer:
        shared = user.organization.customers_see_all_tickets
        return ("customer", user.pk, user.organization_id, shared)
    return ("staff", None if org_ids is None else tuple(org_ids))


def customer_scope(
    queryset: QuerySet[M], user: Any, *, public: str | None = "is_public", own: str | None = None
) -> QuerySet[M]:
    """What a customer sees of `queryset`; staff see it unchanged.

    `public` names the flag of public rows (None: the rows have none); `own` the path to the
    ticket's requester, when the customer's organization does not share tickets among its
    people ("requester" on a ticket, "ticket__requester" on a comment).
    """
    if not user.is_customer:
        return queryset
    if public is not None:
        queryset = queryset.filter(**{public: True})
    if own is not None and not user.organization.customers_see_all_tickets:
        queryset = queryset.filter(**{own: user})
    return queryset


def customer_sees(user: Any, row: Any, *, own: str = "requester_id") -> bool:
    """Whether `user` may see the loaded `row` (a ticket: organization, requester), as
    `visible()` and `customer_scope()` decide in SQL. For lists of people to notify, where a
    query per person would cost more than the rule."""
    if not user.is_active or not can_see_organization(user, row.organization_id):
        return False
    if not user.is_customer:
        return True
    if not getattr(row, "is_public", True):
        return False
    return bool(row.organization.customers_see_all_tickets) or user.pk == getattr(row, own)


def can_see_organization(user: Any, organization_id: int | None) -> bool:
    org_ids = served_organization_ids(user)
    return org_ids is None or organization_id in org_ids
