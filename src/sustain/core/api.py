"""Shared pieces of the REST API: authentication, error bodies, page schema."""

from __future__ import annotations

import datetime as dt
import json
import re
from types import UnionType
from typing import Annotated, Any, ClassVar, Generic, TypeVar, Union, get_args, get_origin

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.schema import DjangoGetter
from ninja.security import HttpBearer, SessionAuth
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sustain.accounts import token_throttle, tokens
from sustain.core import instants
from sustain.core.errors import ActionError
from sustain.core.ids import MAX_ID

T = TypeVar("T")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class TokenAuth(HttpBearer):
    """`Authorization: Bearer sus_…`; a read-scoped token may only read. Too many failed
    tokens from one address and its bearer requests get 429 for a while (token_throttle)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        address = token_throttle.address_key(request)
        api_token = tokens.authenticate(token, address=address)  # raises Throttled
        if api_token is None:
            token_throttle.record_failure(address)
            return None
        if api_token.scope == "read" and request.method not in SAFE_METHODS:
            raise HttpError(403, "This token may only read.")
        request.user = api_token.user
        return api_token.user


class ActiveSessionAuth(SessionAuth):
    """The web session (with its CSRF check on writes), for the UI's own calls."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


def _in_utc(value: dt.datetime) -> dt.datetime:
    """An instant in UTC: PostgreSQL compares and stores in UTC anyway."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


def _strict_instant(value: Any) -> Any:
    """Text through the one strict ISO 8601 reader (core.instants); a date or date-time
    object (a Python caller's) as it is. Numbers are refused: pydantic would read them as
    unix timestamps."""
    if isinstance(value, dt.date):
        return value
    try:
        return instants.parse(value)
    except instants.BadInstant as exc:
        raise ValueError(str(exc)) from None


def _as_datetime(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time.min)
    return value


UtcDateTime = Annotated[
    dt.datetime,
    BeforeValidator(_as_datetime),
    BeforeValidator(_strict_instant),
    AfterValidator(_in_utc),
]
"""A date-time from outside (body or query), strict ISO 8601, stored or compared in UTC."""


def _in_utc_if_instant(value: dt.date) -> dt.date:
    return _in_utc(value) if isinstance(value, dt.datetime) else value


DateOrDateTime = Annotated[
    dt.date | dt.datetime, BeforeValidator(_strict_instant), AfterValidator(_in_utc_if_instant)
]
"""A day or an instant (a filter's bound), strict ISO 8601."""

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A row id from outside: past BIGINT it could only overflow the query."""


class KeyGivenTwice(ValueError):
    """A JSON object names a key more than once: parsers disagree on which value wins, so
    neither is taken."""

    def __init__(self, key: str):
        self.key = key
        super().__init__(f"{key} is given more than once")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise KeyGivenTwice(key)
        found[key] = value
    return found


class StrictJsonParser(Parser):
    """The API's JSON reader: a key given twice in one object is refused, not the last taken."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        return json.loads(request.body, object_pairs_hook=_pairs)  # type: ignore[no-any-return]


def _only_kind(annotation: Any) -> type | None:
    """int or bool when a field takes that type alone (or null); None for anything else."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        if len(options) != 1:
            return None
        return _only_kind(options[0])
    return annotation if annotation in (int, bool) else None


class Input(Schema):
    """Every request body: a JSON object whose fields this schema has, no other.

    A field the schema does not have is refused (422, naming it) rather than silently
    dropped: `{"public": false}` on a comment (whose field is `is_public`) would otherwise
    post a public reply. A body that is not an object (`[]`, `"x"`, `1`, `null`) is refused
    too, naming `body`; ninja would otherwise read it as an object with every field left out.
    Only receivers of formats defined elsewhere (VCS push webhooks) ignore unknown fields, as
    their specifications ask; they do not use this class.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _json_types(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic's lax mode takes "1" and true for a number and "yes" for a boolean; a JSON
        # body has its own types, so a field that is only a number or only a boolean takes
        # only that (dates and enums still come as strings, as JSON has no type for them).
        field = cls.model_fields.get(info.field_name or "")
        kind = _only_kind(field.annotation) if field is not None else None
        if kind is int and (isinstance(value, bool) or not isinstance(value, int | None)):
            raise ValueError("must be a whole number")
        if kind is bool and not isinstance(value, bool | None):
            raise ValueError("must be true or false")
        return value

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, value: Any) -> Any:
        # ninja hands the model its data wrapped in a DjangoGetter (after a first pass with
        # the data itself, where a list or a string is caught).
        data = value._obj if isinstance(value, DjangoGetter) else value
        if not isinstance(data, dict | Schema):
            raise ValueError("must be a JSON object")
        return value


def _null_only_where_clearable(schema: dict[str, Any], model: Any) -> None:
    """The published schema says which fields take null: only those it clears."""
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf")
        if name in model.clearable or not options:
            continue
        kept = [o for o in options if o.get("type") != "null"]
        if len(kept) == 1:
            del prop["anyOf"]
            prop.update(kept[0])
        prop.pop("default", None)


class Patch(Input):
    """A partial update: a field left out keeps its value. Null clears the fields named in
    `clearable` and is refused (422, naming the field) for the others, whose columns take no
    null. A field the resource does not have, or cannot change this way (`status`, which has
    its own transition), is refused rather than silently ignored."""

    clearable: ClassVar[frozenset[str]] = frozenset()
    model_config = ConfigDict(json_schema_extra=_null_only_where_clearable, extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _null_clears_or_is_refused(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


class Page(Schema, Generic[T]):
    results: list[T]
    next: str | None


class FieldError(Schema):
    field: str | None
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldError] = []


def _error(
    api: NinjaAPI, request: HttpRequest, status: int, detail: str, errors=()
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": list(errors)}, status=status)


def _field_of(location: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in location]
    # Only the leading source marker goes: a field may itself be called "body" (a comment's).
    if parts and parts[0] in ("body", "query", "path", "form", "file"):
        parts = parts[1:]
    # ninja nests the body under the parameter name ("payload"); users know the field names,
    # and a fault of the body as a whole (missing, not an object) is the body's.
    if parts and parts[0] in {"payload", "data", "filters"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


# How pydantic names the member of a union in an error's location: int, str, date, datetime,
# list[int], constrained-str, str-enum[Kind] ...
_TYPE_TAG = re.compile(r"^(int|float|str|bool|bytes|date|datetime|time|none)$|[\[-]")


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One entry per field, without the union member tags pydantic adds to the location.

    A value that fits no member of `int | str` fails once per member, at `organization.int`
    and `organization.str`; the user sent one field, `organization`.
    """
    paths = [[str(p) for p in e.get("loc", ())] for e in errors]

    def is_union_tag(path: list[str], i: int) -> bool:
        return bool(_TYPE_TAG.search(path[i])) and any(
            len(other) > i
            and other[:i] == path[:i]
            and other[i] != path[i]
            and _TYPE_TAG.search(other[i])
            for other in paths
        )

    merged: dict[str, list[str]] = {}
    for path, error in zip(paths, errors, strict=True):
        kept = [part for i, part in enumerate(path) if not is_union_tag(path, i)]
        messages = merged.setdefault(_field_of(kept), [])
        message = error.get("msg", "invalid")
        if message not in messages:
            messages.append(message)
    return [{"field": field, "message": "; ".join(msgs)} for field, msgs in merged.items()]


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(RawPostDataException)
    def form_body(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A form-encoded or multipart body sent with a session: the CSRF check read it as a
        # form, so it cannot be read again as the JSON this operation takes.
        return _error(
            api,
            request,
            415,
            "This operation takes a JSON body (Content-Type: application/json).",
            [{"field": "body", "message": "send JSON, not a form"}],
        )

    @api.exception_handler(ActionError)
    def action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
        return _error(api, request, exc.status, exc.message, exc.errors)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = _field_errors(list(exc.errors))
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return _error(api, request, 422, f"Invalid input ({summary}).", errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
        return _error(api, request, 401, "Authentication required: send a Bearer token.")

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return _error(api, request, 404, str(exc) or "Not found.")

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
        return _error(api, request, 403, str(exc) or "Forbidden.")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, KeyGivenTwice):  # ninja's "Cannot parse request body"
            message = str(exc.__cause__)
            return _error(
                api,
                request,
                422,
                f"Invalid input ({message}).",
                [{"field": exc.__cause__.key, "message": "is given more than once"}],
            )
        return _error(api, request, exc.status_code, str(exc))

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        detail = "Too many failed token attempts from this address; try again later."
        response = _error(api, request, 429, detail)
        if exc.wait:
            response["Retry-After"] = str(exc.wait)
        return response
