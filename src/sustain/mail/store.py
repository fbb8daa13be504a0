"""Received mail as it arrived, in files under the data directory, named by their content."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.http import FileResponse


def _root() -> Path:
    return Path(settings.MAIL_DIR) / "inbound"


def save(raw: bytes) -> str:
    """Write `raw` once (the same bytes twice are one file); return its path under MAIL_DIR.

    Written to a temporary file and renamed, so a reader never sees half a mail.
    """
    digest = hashlib.sha256(raw).hexdigest()
    relative = f"inbound/{digest[:2]}/{digest}.eml"
    path = _root() / digest[:2] / f"{digest}.eml"
    if path.exists():
        return relative
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return relative


def path_of(relative: str) -> Path:
    """The file of a stored mail; never a path outside MAIL_DIR."""
    path = (Path(settings.MAIL_DIR) / relative).resolve()
    if not path.is_relative_to(Path(settings.MAIL_DIR).resolve()):
        raise FileNotFoundError(relative)
    return path


def load(relative: str) -> bytes:
    return path_of(relative).read_bytes()


def download(relative: str, name: str) -> FileResponse:
    """The mail as received, streamed from its file (a 40 MiB mail is never read whole), as an
    .eml download that no browser renders."""
    response = FileResponse(
        path_of(relative).open("rb"),
        as_attachment=True,
        filename=name,
        content_type="message/rfc822",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
