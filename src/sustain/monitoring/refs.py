"""References from outside (an organization's slug or id, a configuration item's) turned into
the rows monitoring's doors work on, the same way for every kind of watcher."""

from __future__ import annotations

from typing import Any

from sustain.accounts.actions import resolve_organization
from sustain.accounts.models import Organization, User
from sustain.cmdb import refs as cmdb_refs
from sustain.core import tenancy
from sustain.core.errors import Forbidden


def managed_organization(actor: User, ref: int | str) -> Organization:
    """The organization `ref` names, which `actor` must be able to see to manage its
    monitoring (a 403 otherwise)."""
    organization = resolve_organization(ref)
    if not tenancy.can_see_organization(actor, organization.pk):
        raise Forbidden("You may not manage this organization's monitoring.")
    return organization


def with_item(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """`data` with its `config_item` reference, when it has one, resolved to the item (one
    `actor` may see, else a 4xx naming the field)."""
    if "config_item" in data:
        data["config_item"] = cmdb_refs.config_item(actor, data["config_item"], field="config_item")
    return data


def with_prometheus(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """`data` with its `prometheus` reference (a source's id), when it has one, resolved to a
    source `actor` may see (else a 422 naming the field); null stays null."""
    if data.get("prometheus") is not None:
        from sustain.core import refs as core_refs
        from sustain.monitoring.models import PrometheusSource

        data["prometheus"] = core_refs.resolve(
            actor,
            PrometheusSource.objects.all(),
            data["prometheus"],
            by=("pk",),
            field="prometheus",
            missing="No Prometheus source {ref}.",
        )
    return data
