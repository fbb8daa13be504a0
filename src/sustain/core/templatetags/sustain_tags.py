"""Template filters used across the UI (loaded as builtins)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from sustain.core.text import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> SafeString:
    return mark_safe(render_markdown(text))


@register.filter
def as_label(code: str) -> str:
    """A stored code read as a label where no choices are at hand: in_progress → In progress."""
    return str(code).replace("_", " ").capitalize()
