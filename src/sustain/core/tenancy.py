"""Tenancy scoping: the one place that decides which rows a user may see.

A model names the path to its owning organization in `tenant_field` (None for rows that
belong to nobody, such as products); with `tenant_optional = True`, a row whose organization
is empty is shared by all (a calendar for everyone beside a customer's own). A model may
narrow what customers see further with a classmethod `customer_scope(queryset, user)`
(internal comments, other people's tickets).
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


def can_see_organization(user: Any, organization_id: int | None) -> bool:
    org_ids = served_organization_ids(user)
    return org_ids is None or organization_id in org_ids
