"""Checking and storing uploaded files: the type read from the content, never the client's word;
stored as a row of the caller's attachment model (a ticket's, a bug's) with its event."""

from __future__ import annotations

import hashlib
import mimetypes
import os
from dataclasses import dataclass
from typing import Any

import filetype
from django.conf import settings
from django.core.files.base import ContentFile

from sustain.core.errors import Invalid

ALLOWED_TYPES = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/json",
    "application/zip",
    "application/gzip",
    "application/x-tar",
    "application/xml",
    "text/xml",
}
TEXT_TYPES = {"text/plain", "text/csv", "application/json", "application/xml", "text/xml"}
TEXT_EXTENSIONS = {".txt", ".log", ".csv", ".json", ".xml", ".md", ".yaml", ".yml", ".ini", ".conf"}


@dataclass
class CheckedFile:
    filename: str
    content_type: str
    content: bytes
    sha256: str

    def as_django_file(self) -> ContentFile:
        return ContentFile(self.content, name=self.filename)


def clean_filename(name: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/")).strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    return name[:150] or "attachment"


def check(filename: str, content: bytes, field: str = "file") -> CheckedFile:
    """Refuse files that are too large or whose content is not an accepted type.

    The type is taken from the content (magic bytes), not from what the client claims;
    text has no magic, so text is accepted only under a text extension and when it decodes.
    """
    filename = clean_filename(filename)
    if len(content) > settings.ATTACHMENT_MAX_BYTES:
        limit = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        raise Invalid(f"{filename} is larger than {limit} MiB.", field=field)
    if not content:
        raise Invalid(f"{filename} is empty.", field=field)
    kind = filetype.guess(content)
    extension = os.path.splitext(filename)[1].lower()
    if kind is not None:
        content_type = kind.mime
    elif extension in TEXT_EXTENSIONS and _is_text(content):
        content_type = mimetypes.guess_type(filename)[0] or "text/plain"
        if content_type not in TEXT_TYPES:
            content_type = "text/plain"
    else:
        content_type = "application/octet-stream"
    if content_type not in ALLOWED_TYPES:
        raise Invalid(f"{filename}: files of type {content_type} are not accepted.", field=field)
    return CheckedFile(filename, content_type, content, hashlib.sha256(content).hexdigest())


def _is_text(content: bytes) -> bool:
    if b"\x00" in content[:8192]:
        return False
    try:
        content[:65536].decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the boundary is still text.
        try:
            content[:65530].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


def store(
    model: type[Any],
    actor: Any,
    target: Any,
    upload: CheckedFile,
    *,
    event_public: bool,
    **fields: Any,
) -> Any:
    """Save a checked upload as a row of `model` (a ticket's or a bug's attachment) and record
    it on the target's timeline, inside the caller's transaction."""
    from sustain.core import events

    attachment = model(
        uploaded_by=actor,
        filename=upload.filename,
        content_type=upload.content_type,
        size=len(upload.content),
        sha256=upload.sha256,
        **fields,
    )
    attachment.file.save(upload.filename, upload.as_django_file(), save=False)
    attachment.save()
    events.record(
        target,
        "attached",
        actor=actor,
        after={"filename": upload.filename, "size": attachment.size},
        is_public=event_public,
    )
    return attachment
