"""Install-base panels shown on other apps' pages (the bug page, the release page)."""

from __future__ import annotations

from typing import Any

from django import template

from sustain.cmdb.models import ConfigItem
from sustain.core.tenancy import visible
from sustain.releases.deployments import installbase
from sustain.releases.models import Deployment

register = template.Library()

SHOWN = 50  # rows of a panel; the counts say how many there are in all


@register.inclusion_tag("releases/_bug_install_base.html", takes_context=True)
def bug_install_base(context: Any, bug: Any) -> dict[str, Any]:
    """Environments and organizations running a version the bug affects (those the reader may
    see), and where the fix shipped — "fixed" and "shipped" apart."""
    request = context.get("request")
    user = getattr(request, "user", None)
    environments = visible(installbase.affected_environments(bug), user)
    total = environments.count()
    organizations = environments.order_by().values("organization_id").distinct().count()
    return {
        "bug": bug,
        "request": request,
        "staff": bool(getattr(user, "is_agent", False)),
        "environments": list(environments[:SHOWN]) if total else [],
        "environment_count": total,
        "organization_count": organizations,
        "affected_known": bug.lines.exists() or bug.affected_versions.exists(),
        "shipped": installbase.shipped_to(bug, visible(ConfigItem.objects.all(), user)),
    }


@register.inclusion_tag("releases/deployments/_release_deployments.html", takes_context=True)
def release_deployments(context: Any, release: Any) -> dict[str, Any]:
    """The deployments of a release the reader may see, newest first."""
    request = context.get("request")
    user = getattr(request, "user", None)
    rows = list(
        visible(Deployment.objects.filter(release=release), user)
        .select_related("environment", "organization")
        .order_by("-id")[:200]
    )
    counts: dict[str, int] = {}
    for d in rows:
        label = d.get_status_display().lower()  # "2 succeeded · 1 in progress"
        counts[label] = counts.get(label, 0) + 1
    return {
        "release": release,
        "deployments": rows,
        "counts": sorted(counts.items()),
        "staff": bool(getattr(user, "is_agent", False)),
        "request": request,
    }
