"""`{% similar_hook form.title %}`: the title input asks for similar tickets and bugs as it is
typed (htmx), into the element `#similar` that the form template places below it."""

from __future__ import annotations

import json

from django import template
from django.forms import BoundField
from django.urls import reverse

register = template.Library()


@register.simple_tag
def similar_hook(field: BoundField, exclude: str = "") -> str:
    """Adds the htmx attributes to the field's widget (this form instance only); renders nothing."""
    attrs = {
        "hx-get": reverse("similar:suggest"),
        "hx-trigger": "keyup changed delay:300ms",
        "hx-target": "#similar",
        "hx-include": "[name='description']",
        "autocomplete": "off",
    }
    if exclude:
        attrs["hx-vals"] = json.dumps({"exclude": exclude})
    field.field.widget.attrs.update(attrs)
    return ""
