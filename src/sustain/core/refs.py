"""One way to turn a reference from outside (an id, a slug, an e-mail, a key) into a row.

Every lookup starts from `visible(queryset, actor)`: a row the actor may not see answers
exactly as a row that does not exist, through whichever door (id, slug, e-mail) was tried,
so a reference never tells a customer what another organization has. The lookups are tried
in the order given and the first match wins; "pk" is tried only when the reference is an id
(netbox `utilities/api.py: get_related_object_by_attrs` is the model). Apps keep one thin
helper per model (`accounts.refs.user`, `cmdb.refs.product` …) that names the lookups and
the message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404

from sustain.core.errors import Invalid
from sustain.core.ids import as_id
from sustain.core.tenancy import visible

M = TypeVar("M", bound=Model)
Message = str | Callable[[Any], str]


def find(
    actor: Any,
    queryset: QuerySet[M],
    ref: Any,
    *,
    by: Sequence[str] = ("pk", "slug"),
    clean: Callable[[str], str] | None = None,
) -> M | None:
    """The row `ref` names among those `actor` may see, or None.

    `by` are lookups ("pk", "slug", "email__iexact", "name__iexact", "key" …); `clean`
    prepares the text for the lookups other than "pk" (strip, upper case).
    """
    rows = visible(queryset, actor)
    text = str(ref)
    for lookup in by:
        if lookup == "pk":
            pk = as_id(ref)
            if pk is None:
                continue
            found = rows.filter(pk=pk).first()
        else:
            found = rows.filter(**{lookup: clean(text) if clean else text}).first()
        if found is not None:
            return found
    return None


def resolve(
    actor: Any,
    queryset: QuerySet[M],
    ref: Any,
    *,
    field: str,
    missing: Message,
    by: Sequence[str] = ("pk", "slug"),
    clean: Callable[[str], str] | None = None,
) -> M | None:
    """The row `ref` names (None for an empty reference), or 422 on `field`.

    `missing` is the message: a template with `{ref}` for the reference as given ("No team
    '{ref}'."), or a function of the reference when the text holds other names.
    """
    if ref is None or ref == "":
        return None
    found = find(actor, queryset, ref, by=by, clean=clean)
    if found is None:
        message = missing(ref) if callable(missing) else missing.format(ref=ref)
        raise Invalid(message, field=field)
    return found


def require(
    actor: Any,
    queryset: QuerySet[M],
    ref: Any,
    *,
    field: str,
    missing: Message,
    required: str,
    by: Sequence[str] = ("pk", "slug"),
    clean: Callable[[str], str] | None = None,
) -> M:
    """As `resolve`, but an empty reference is 422 with the message `required`."""
    found = resolve(actor, queryset, ref, field=field, missing=missing, by=by, clean=clean)
    if found is None:
        raise Invalid(required, field=field)
    return found


def resolve_or_404(
    actor: Any, queryset: QuerySet[M], ref: Any, *, by: Sequence[str] = ("pk", "slug")
) -> M:
    """The row a URL names, or 404 (as `get_object_or_404`)."""
    found = find(actor, queryset, ref, by=by)
    if found is None:
        raise Http404(f"No {queryset.model._meta.object_name} matches the given query.")
    return found
