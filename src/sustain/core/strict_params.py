"""Unknown query parameters, and bodies sent to operations that take none, are refused.

django-ninja reads the parameters an operation declares and ignores the rest, so a misspelt
filter (`?statuss=open`) answered with the unfiltered list, and `?is_public=false` on a comment
posted a public reply. `install(api)` wraps every bound operation: before its values are read
(after authentication, so a stranger learns nothing), a query parameter the operation does not
declare, or a body sent to an operation without one, is a 422 naming it, in the API's error
format. The OpenAPI document is untouched: what it lists is exactly what is accepted.

No helper reads `request.GET` behind an operation's back (pagination takes `cursor` and
`limit` as declared parameters), so the declared names are the whole set. Operations whose
request is a format someone else defines keep ignoring unknown query parameters; they are
named in LENIENT with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.operation import Operation

from sustain.core.errors import Invalid

# "module.function" of views whose request follows another party's format.
LENIENT = {
    # GitHub, Gitea/Forgejo and GitLab push webhooks: the sender, not us, decides the URL's
    # extras (a receiver URL may carry its own markers), and their bodies are ignored-unknown.
    "sustain.bugs.vcs.api.push": "VCS push webhook",
    # Alertmanager's webhook: its payload is read (and bounded) by the view itself.
    "sustain.monitoring.api.alertmanager_webhook": "Alertmanager webhook",
}

BODY_SOURCES = {"body", "form", "file"}


def _view_name(operation: Operation) -> str:
    func = operation.view_func
    func = getattr(func, "__wrapped__", func)
    return f"{func.__module__}.{func.__qualname__}"


def declared_query(operation: Operation) -> set[str]:
    """The query parameter names the operation reads (aliases of flattened Query schemas)."""
    names: set[str] = set()
    for model in operation.models:
        if getattr(model, "__ninja_param_source__", None) == "query":
            names.update(getattr(model, "__ninja_flatten_map__", {}) or {})
    return names


def takes_body(operation: Operation) -> bool:
    return any(getattr(m, "__ninja_param_source__", None) in BODY_SOURCES for m in operation.models)


def _unknown(name: str, message: str) -> dict[str, str]:
    return {"field": name, "message": message}


def _query_errors(request: HttpRequest, allowed: set[str]) -> list[dict[str, str]]:
    return [
        _unknown(name, "Unknown query parameter; this operation does not take it.")
        for name in request.GET
        if name not in allowed
    ]


def _body_errors(request: HttpRequest) -> list[dict[str, str]]:
    """What is wrong with a body sent to an operation that takes none (empty is fine)."""
    content_type = request.content_type or ""
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        names = [*request.POST, *request.FILES]
        return [_unknown(n, "Unknown field; this operation takes no body.") for n in names]
    raw = request.body
    if not raw.strip():
        return []
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return [_unknown(str(n), "Unknown field; this operation takes no body.") for n in data]
    return [_unknown("body", "This operation takes no body.")]


def _refuse(errors: list[dict[str, str]]) -> None:
    if errors:
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise Invalid(f"Invalid input ({summary}).", errors=errors)


def _strict(operation: Operation) -> None:
    allowed = declared_query(operation)
    check_body = not takes_body(operation) and bool(
        {m.upper() for m in operation.methods} - {"GET", "HEAD", "OPTIONS"}
    )
    get_values: Callable[..., Any] = operation._get_values

    def _get_values(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # Raised here, inside Operation.run's try, so the API's error handlers answer.
        _refuse(_query_errors(request, allowed) + (_body_errors(request) if check_body else []))
        return get_values(request, *args, **kwargs)

    operation._get_values = _get_values  # type: ignore[method-assign]


def install(api: NinjaAPI) -> None:
    """Make every operation of `api` strict; call after the last `add_router`."""
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            for operation in path_view.operations:
                if _view_name(operation) not in LENIENT:
                    _strict(operation)
