"""Configuration documents under version control, and drift: the one door the UI, the API and
agents go through.

Every save is a new numbered version (author, time, message); a rollback is a new version equal
to an old one, never an edit of history. The latest version is the approved baseline. An agent
or a CI job reports what it observes (`observe`): the copy is compared with the baseline after
the document's ignore rules, and a difference opens a drift episode on the item (with its age,
and a ticket when the document asks for one) that clears when they match again. An installed
version reported for an environment (`observe_version`) that neither the CMDB nor a deployment
in flight explains is a drift the same way.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from sustain.accounts.actions import require_agent, system_actor
from sustain.accounts.models import User
from sustain.cmdb import diffs, semver
from sustain.cmdb.models import ConfigDocument, ConfigItem, ConfigVersion, Drift
from sustain.core import events, tenancy
from sustain.core.errors import Conflict, Forbidden, Invalid, NotFound, refuse_unknown

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,199}$")
MESSAGE_MAX = 500
FORMATS = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".ini": "ini",
    ".cfg": "ini",
    ".conf": "text",
    ".toml": "toml",
}


def _can_write(actor: User, item: ConfigItem) -> None:
    require_agent(actor)
    if not tenancy.can_see_organization(actor, item.organization_id):
        raise Forbidden("You do not serve this item's organization.")


def _name(value: Any) -> str:
    name = (value or "").strip() if isinstance(value, str) else ""
    if not NAME.match(name) or ".." in name:
        raise Invalid(
            "A document name is 1–200 letters, digits, dots, dashes, underscores or slashes "
            "(such as nginx.conf or app/settings.yaml).",
            field="name",
        )
    return name


def _text(value: Any, field: str = "text") -> str:
    if not isinstance(value, str):
        raise Invalid("The text must be a string.", field=field)
    if "\x00" in value:
        raise Invalid("The text holds a NUL character: configuration is text.", field=field)
    if len(value.encode()) > settings.CONFIG_MAX_BYTES:
        raise Invalid(
            f"The text is over {settings.CONFIG_MAX_BYTES} bytes (SUSTAIN_CONFIG_MAX_BYTES).",
            field=field,
        )
    return value


def _message(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MESSAGE_MAX:
        raise Invalid(f"The message is text of at most {MESSAGE_MAX} characters.", field="message")
    return value.strip()


def guess_format(name: str) -> str:
    for ending, kind in FORMATS.items():
        if name.lower().endswith(ending):
            return kind
    return ConfigDocument.Format.TEXT


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def latest(document: ConfigDocument) -> ConfigVersion:
    return document.versions.order_by("-number")[0]


def _write(
    actor: User | None, document: ConfigDocument, text: str, message: str, restored: int | None
) -> ConfigVersion:
    number = (document.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ConfigVersion.objects.create(
        document=document,
        number=number,
        text=text,
        digest=digest(text),
        message=message,
        author=actor if getattr(actor, "pk", None) else None,
        restored_from=restored,
    )
    after = {"document": document.name, "version": number, "message": message}
    if restored is not None:
        after["restored_from"] = restored
    verb = "config_restored" if restored is not None else "config_saved"
    events.record(document.item, verb, actor=actor, after=after, is_public=False)
    return version


def create_document(
    actor: User,
    item: ConfigItem,
    *,
    name: str,
    text: str,
    message: str = "",
    format: str = "",
    ignore_rules: Any = (),
    open_ticket_on_drift: bool = False,
) -> ConfigDocument:
    """A new document with its first version."""
    _can_write(actor, item)
    name, text, message = _name(name), _text(text), _message(message)
    kind = format or guess_format(name)
    if kind not in ConfigDocument.Format.values:
        raise Invalid(
            f"Format must be one of {', '.join(ConfigDocument.Format.values)}.", field="format"
        )
    rules = diffs.check_rules(list(ignore_rules))
    with transaction.atomic():
        if ConfigDocument.objects.filter(item=item, name=name).exists():
            raise Conflict(f"{item.name} already keeps a document named {name}.", field="name")
        document = ConfigDocument.objects.create(
            item=item,
            name=name,
            format=kind,
            ignore_rules=rules,
            open_ticket_on_drift=bool(open_ticket_on_drift),
        )
        _write(actor, document, text, message or "First version.", None)
    return document


def _locked(document: ConfigDocument) -> ConfigDocument:
    """The document's row, locked, as it is now (its observed copy may have come since)."""
    return ConfigDocument.objects.select_for_update().select_related("item").get(pk=document.pk)


def save_version(
    actor: User, document: ConfigDocument, *, text: str, message: str = ""
) -> ConfigVersion:
    """A new version (the new baseline); refused when it equals the latest."""
    _can_write(actor, document.item)
    text, message = _text(text), _message(message)
    with transaction.atomic():
        document = _locked(document)
        current = latest(document)
        if current.text == text:
            raise Conflict(f"Nothing changed since version {current.number}.", field="text")
        version = _write(actor, document, text, message, None)
        evaluate(document)
    return version


def rollback(
    actor: User, document: ConfigDocument, *, number: int, message: str = ""
) -> ConfigVersion:
    """A new version equal to version `number`."""
    _can_write(actor, document.item)
    message = _message(message)
    with transaction.atomic():
        document = _locked(document)
        old = document.versions.filter(number=number).first()
        if old is None:
            raise NotFound(f"{document.name} has no version {number}.", field="number")
        current = latest(document)
        if current.text == old.text:
            raise Conflict(
                f"Version {current.number} already equals version {number}.", field="number"
            )
        version = _write(actor, document, old.text, message or f"Back to version {number}.", number)
        evaluate(document)
    return version


def update_document(actor: User, document: ConfigDocument, **changes: Any) -> ConfigDocument:
    """Its format, ignore rules and whether drift opens a ticket (the text changes by versions)."""
    _can_write(actor, document.item)
    refuse_unknown(changes, {"format", "ignore_rules", "open_ticket_on_drift"})
    if "format" in changes and changes["format"] not in ConfigDocument.Format.values:
        raise Invalid(
            f"Format must be one of {', '.join(ConfigDocument.Format.values)}.", field="format"
        )
    if "ignore_rules" in changes:
        changes["ignore_rules"] = diffs.check_rules(changes["ignore_rules"])
    with transaction.atomic():
        document = _locked(document)
        before = {k: getattr(document, k) for k in changes}
        for key, value in changes.items():
            setattr(document, key, value)
        document.save(update_fields=list(changes))
        old, new = events.changes(before, {k: getattr(document, k) for k in changes})
        if new:
            events.record(
                document.item,
                "config_document_changed",
                actor=actor,
                before={"document": document.name, **old},
                after={"document": document.name, **new},
                is_public=False,
            )
        evaluate(document)
    return document


# --- what is observed ---------------------------------------------------------------------------
def observe(
    actor: User | None,
    item: ConfigItem,
    *,
    name: str,
    text: str,
    adopt: bool = False,
    now: datetime | None = None,
) -> ConfigDocument:
    """The copy of `name` an agent found on `item`, compared with its baseline. `actor` is None
    for a machine token (already bound to the item's organization by its caller). `adopt`
    keeps a document not yet kept, its observed copy as the first version."""
    if actor is not None:
        _can_write(actor, item)
    name, text = _name(name), _text(text)
    now = now or timezone.now()
    with transaction.atomic():
        document = ConfigDocument.objects.select_for_update().filter(item=item, name=name).first()
        if document is None:
            if not adopt:
                raise NotFound(
                    f"{item.name} keeps no document named {name}: create it first, or send "
                    '"adopt": true to keep this copy as its first version.',
                    field="name",
                )
            document = ConfigDocument.objects.create(
                item=item, name=name, format=guess_format(name)
            )
            _write(actor or system_actor(), document, text, "Adopted from the observed copy.", None)
        document.observed_text, document.observed_at = text, now
        document.save(update_fields=["observed_text", "observed_at"])
        evaluate(document, now)
    return document


def evaluate(document: ConfigDocument, now: datetime | None = None) -> Drift | None:
    """Open, refresh or clear the document's drift; the open drift, if any."""
    if document.observed_at is None:
        return None
    now = now or timezone.now()
    baseline = latest(document)
    rules = document.ignore_rules or []
    same = diffs.comparable(document.observed_text, rules) == diffs.comparable(baseline.text, rules)
    if same:
        _clear(document.item, document, Drift.Kind.CONFIG, now)
        return None
    removed, added = diffs.changed_lines(baseline.text, document.observed_text)
    detail = f"{document.name} differs from version {baseline.number}: {removed} line(s) removed, {added} added"
    return _open(document.item, document, Drift.Kind.CONFIG, detail, now)


def observe_version(
    actor: User | None, item: ConfigItem, *, version: str, now: datetime | None = None
) -> Drift | None:
    """The product version an agent found installed on an environment."""
    if actor is not None:
        _can_write(actor, item)
    if item.kind != ConfigItem.Kind.ENVIRONMENT or item.product_id is None:
        raise Invalid(
            "Only an environment that runs a product has an installed version.", field="version"
        )
    if not isinstance(version, str) or semver.parse(version.strip()) is None:
        raise Invalid(
            f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH).", field="version"
        )
    version, now = version.strip(), now or timezone.now()
    recorded = item.version.name if item.version is not None else None
    with transaction.atomic():
        if version == recorded or _in_flight(item, version):
            _clear(item, None, Drift.Kind.VERSION, now)
            return None
        detail = (
            f"{version} is installed; the CMDB records {recorded or 'no version'} and no "
            "deployment explains it"
        )
        return _open(item, None, Drift.Kind.VERSION, detail, now)


def _in_flight(item: ConfigItem, version: str) -> bool:
    from sustain.releases.models import Deployment

    return Deployment.objects.filter(
        environment=item,
        release__version__name=version,
        status__in=(Deployment.Status.IN_PROGRESS, Deployment.Status.SCHEDULED),
    ).exists()


def _open(
    item: ConfigItem, document: ConfigDocument | None, kind: str, detail: str, now: datetime
) -> Drift:
    found = Drift.objects.filter(
        item=item, document=document, kind=kind, cleared_at__isnull=True
    ).first()
    if found is not None:
        Drift.objects.filter(pk=found.pk).update(detail=detail[:500], last_seen_at=now)
        found.detail, found.last_seen_at = detail[:500], now
        return found
    drift = Drift.objects.create(
        item=item, document=document, kind=kind, detail=detail[:500], since=now, last_seen_at=now
    )
    events.record(
        item,
        "drift_detected",
        actor=None,
        after={"kind": kind, "detail": detail[:500]},
        is_public=False,
    )
    if document is not None and document.open_ticket_on_drift:
        drift.ticket = _ticket(item, detail)
        drift.save(update_fields=["ticket"])
    return drift


def _clear(item: ConfigItem, document: ConfigDocument | None, kind: str, now: datetime) -> None:
    cleared = Drift.objects.filter(
        item=item, document=document, kind=kind, cleared_at__isnull=True
    ).update(cleared_at=now)
    if cleared:
        name = document.name if document is not None else "installed version"
        events.record(
            item, "drift_cleared", actor=None, after={"kind": kind, "of": name}, is_public=False
        )


def _ticket(item: ConfigItem, detail: str):
    from sustain.desk import actions as desk
    from sustain.desk.models import Channel

    return desk.open_ticket(
        system_actor(),
        title=f"Configuration drift on {item.name}"[:200],
        description=f"{detail}.\n\nSee the item's configuration documents for the diff.",
        organization=item.organization,
        affected_ci=item,
        channel=Channel.MONITORING,
        tags=["drift"],
    )


def open_drifts(item_ids: list[int]) -> dict[int, list[Drift]]:
    """The open drifts of each item (one query)."""
    found: dict[int, list[Drift]] = {pk: [] for pk in item_ids}
    rows = Drift.objects.filter(item_id__in=item_ids, cleared_at__isnull=True).select_related(
        "document", "ticket"
    )
    for row in rows:
        found[row.item_id].append(row)
    return found


def compare(
    document: ConfigDocument, old: int | None, new: str | None, user: Any
) -> dict[str, Any]:
    """The diff between two versions, or a version and the observed copy (`new="observed"`):
    unified and side by side, secrets masked but for admins."""
    current = latest(document)
    if new in (None, "", "latest"):
        right, right_name = current.text, f"version {current.number}"
        right_number = current.number
    elif new == "observed":
        if document.observed_at is None:
            raise NotFound(f"Nothing has been observed of {document.name} yet.", field="new")
        right, right_name, right_number = document.observed_text, "observed", current.number + 1
    else:
        number = int(new) if new.isdigit() else 0
        found = document.versions.filter(number=number).first() if number else None
        if found is None:
            raise NotFound(f"{document.name} has no version {new}.", field="new")
        right, right_name, right_number = found.text, f"version {number}", number
    if old is None:
        old = current.number if new == "observed" else max(1, right_number - 1)
    base = document.versions.filter(number=old).first()
    if base is None:
        raise NotFound(f"{document.name} has no version {old}.", field="old")
    left, right = diffs.shown(base.text, user), diffs.shown(right, user)
    result = diffs.compare(
        left, right, f"{document.name} (version {old})", f"{document.name} ({right_name})"
    )
    return {
        "old": f"version {old}",
        "new": right_name,
        "removed": result.removed,
        "added": result.added,
        "unified": result.unified,
        "rows": result.rows,
    }
