"""`{% load relative_time %}`: `{{ moment|ago }}` says "19 h ago" or "in 2 h" (core.relative)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from sustain.core.relative import relative

register = template.Library()


@register.filter
def ago(moment: datetime | None) -> str:
    return relative(moment, timezone.now()) if moment else ""
