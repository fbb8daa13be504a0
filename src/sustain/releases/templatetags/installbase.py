"""Install-base panels shown on other apps' pages (filled in by the deployments work)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("releases/_bug_install_base.html", takes_context=True)
def bug_install_base(context: Any, bug: Any) -> dict[str, Any]:
    """Environments and organizations running a version the bug affects; where it shipped."""
    return {"bug": bug, "request": context.get("request")}
