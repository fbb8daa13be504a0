"""A mail's template context as JSON for an outbox row, and back again in the worker.

Model instances become references (label and primary key, read again when decoded) or, when
asked, snapshots (their own column values as of now: the mail tells what was true at the event);
datetimes, lists and dicts of these are kept, and a lazily translated text keeps its message (it
is translated for each recipient); plain values pass as they are. Anything else is
refused, so that a context that cannot travel fails where it is queued, not in the worker.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.apps import apps
from django.db.models import Model
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

PLAIN = (str, int, float, bool, type(None))


def encode(value: Any, *, snapshot: bool = False) -> Any:
    if isinstance(value, PLAIN):
        return value
    if isinstance(value, Model):
        ref: dict[str, Any] = {"$model": value._meta.label_lower, "pk": value.pk}
        if snapshot:
            ref["fields"] = {
                f.attname: _column(f.value_from_object(value)) for f in value._meta.concrete_fields
            }
        return ref
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, Promise) and _message(value) is not None:
        return {"$gettext": _message(value)}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"$dict": {k: encode(v) for k, v in value.items()}}
    raise TypeError(f"A notification's context cannot carry {type(value).__name__}.")


def _message(text: Promise) -> str | None:
    """The message of a gettext_lazy() text (a lazy proxy keeps its call's arguments)."""
    args = getattr(text, "_args", None)
    if isinstance(args, tuple) and len(args) == 1 and isinstance(args[0], str):
        return args[0] if str(gettext_lazy(args[0])) == str(text) else None
    return None


def _column(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$datetime" in value:
        return dt.datetime.fromisoformat(value["$datetime"])
    if "$gettext" in value:
        return gettext_lazy(value["$gettext"])
    if "$dict" in value:
        return {k: decode(v) for k, v in value["$dict"].items()}
    model = apps.get_model(value["$model"])
    if "fields" not in value:
        return model._default_manager.filter(pk=value["pk"]).first()
    fields = {f.attname: f for f in model._meta.concrete_fields}
    instance = model(**{k: fields[k].to_python(v) for k, v in value["fields"].items()})
    instance._state.adding = False
    instance._state.db = model._default_manager.db
    return instance
