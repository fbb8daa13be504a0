"""Received mail as it arrived, in files under the data directory, named by their content."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.conf import settings


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


def load(relative: str) -> bytes:
    path = (Path(settings.MAIL_DIR) / relative).resolve()
    if not path.is_relative_to(Path(settings.MAIL_DIR).resolve()):
        raise FileNotFoundError(relative)
    return path.read_bytes()
