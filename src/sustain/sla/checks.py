"""Checks the SLA actions share: a model's own validation as an Invalid naming the fields, and
PATCH nulls refused by name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from sustain.core.errors import Invalid


def clean_model(instance: models.Model, *, exclude: Iterable[str] = (), prefix: str = "") -> None:
    """The model's own validation (fields and clean()) as an Invalid naming the fields."""
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        errors = []
        for key, items in exc.error_dict.items():
            field = prefix.rstrip(".") or "body" if key == NON_FIELD_ERRORS else f"{prefix}{key}"
            for item in items:
                # A check may say where inside a JSON field it failed ("0.colour").
                path = (item.params or {}).get("path")
                errors.append(
                    {
                        "field": f"{field}.{path}" if path else field,
                        "message": " ".join(item.messages),
                    }
                )
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise Invalid(summary, errors=errors) from None


def refuse_nulls(changes: dict[str, Any], nullable: frozenset[str] = frozenset()) -> None:
    """PATCH with null means "clear"; fields that cannot be empty say so instead of failing."""
    for key, value in changes.items():
        if value is None and key not in nullable:
            raise Invalid(f"{key} cannot be empty.", field=key)
