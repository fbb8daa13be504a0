"""A received mail made small enough to parse, before the standard library's parser sees it.

The stdlib parser keeps every part's body as one string and builds it from a list of lines:
a 40 MiB body costs it several times that (one long line: a 4-byte-per-character buffer).
Only the first part of a long text is ever used (what becomes a description is cut to the
desk's limit anyway), and an attachment over the attachment limit is refused anyway, so those
bytes need not be parsed at all. This pass cuts them out and leaves the structure whole:

- the mail is split at the lines of every multipart boundary it declares (`boundary=`
  anywhere in it): each piece is one part, its header block and its body;
- a text part's body (text/*, message/*, a multipart's preamble: anything not an attachment)
  keeps its first `TEXT_BYTES`; an attachment's body is kept whole when it can be within the
  attachment limit once decoded, else dropped, and its header block says so
  (`X-Sustain-Cut-<nonce>: <size>`, the nonce unguessable by a sender);
- a long base64 attachment that is kept is left out of what the stdlib parses too: its header
  block says where its body is in the mail (`X-Sustain-Body-<nonce>: <offset> <length>`), and
  parse.py decodes it from there in one step (the stdlib would hold it as lines, then as one
  string, then as bytes);
- parts after the first `MAX_PARTS` are dropped (each parsed part costs some kilobytes).

Header blocks and boundary lines are never cut, so the stdlib parses the same structure; the
bytes only are fewer. Memory: one copy of what is kept, at most about `TEXT_BYTES` per part.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import Parser

TEXT_BYTES = 2 * 1024 * 1024  # of a text part's encoded body: far more than the text kept
HEAD_BYTES = 256 * 1024  # a header block longer than this is read as body
MAX_PARTS = 1000
MAX_BOUNDARIES = 200
BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.I)
BLANK_LINE = re.compile(rb"\r?\n\r?\n")
# how much longer than the decoded attachment its transfer encoding may make it
EXPANSION = {"base64": 1.4, "quoted-printable": 3.2}


@dataclass
class Shrunk:
    data: bytes  # what to parse: the mail itself when nothing was cut
    text_cut: bool  # a text part (or a part after MAX_PARTS) was cut: the text is not whole


def _boundary_lines(raw: bytes) -> list[int]:
    """Where the lines starting with `--<boundary>` begin, for every declared boundary."""
    found: set[bytes] = set()
    for match in BOUNDARY.finditer(raw):
        found.add((match.group(1) or match.group(2)).rstrip())
        if len(found) >= MAX_BOUNDARIES:
            break
    starts: set[int] = set()
    for boundary in found:
        separator = b"--" + boundary
        if raw.startswith(separator):
            starts.add(0)
        at = raw.find(b"\n" + separator)
        while at != -1 and len(starts) <= MAX_PARTS:
            starts.add(at + 1)
            at = raw.find(b"\n" + separator, at + 1)
    return sorted(starts)


def _headers(block: bytes) -> Message:
    return Parser(policy=policy.compat32).parsestr(
        block.decode("ascii", "surrogateescape"), headersonly=True
    )


def _is_attachment(headers: Message) -> tuple[bool, str]:
    """Whether the part is an attachment (not text to read), and its transfer encoding."""
    encoding = str(headers.get("Content-Transfer-Encoding", "")).strip().lower()
    if headers.get_content_maintype() in ("text", "message", "multipart"):
        disposition = str(headers.get("Content-Disposition", "")).strip().lower()
        try:
            named = bool(headers.get_filename())
        except Exception:  # a malformed parameter: parse.py names it later
            named = True
        return disposition.startswith("attachment") or named, encoding
    return True, encoding


def shrink(raw: bytes, nonce: str, attachment_max: int) -> Shrunk:
    """`raw` with long texts cut and oversized attachments dropped (see the module)."""
    cuts = _boundary_lines(raw)
    if len(raw) <= TEXT_BYTES and len(cuts) <= MAX_PARTS:
        return Shrunk(raw, False)
    edges = [0, *[c for c in cuts if c > 0], len(raw)]
    pieces: list[bytes] = []
    text_cut = len(edges) - 1 > MAX_PARTS
    for start, end in itertools.pairwise(edges[: MAX_PARTS + 1]):
        kept, cut = _piece(raw, start, end, nonce, attachment_max)
        pieces.extend(kept)
        text_cut = text_cut or cut
    return Shrunk(b"".join(pieces), text_cut)


def _piece(
    raw: bytes, start: int, end: int, nonce: str, attachment_max: int
) -> tuple[list[bytes], bool]:
    """One part (from its boundary line to the next) cut as the module says, and whether it
    was a text that was cut."""
    if end - start <= TEXT_BYTES:
        return [raw[start:end]], False
    head_start = start
    if start > 0 or raw.startswith(b"--"):  # skip the boundary line itself
        line_end = raw.find(b"\n", start, start + HEAD_BYTES)
        head_start = line_end + 1 if line_end != -1 else start
    window = raw[head_start : min(end, head_start + HEAD_BYTES)]
    if window.startswith((b"\n", b"\r\n")):
        head_end = head_start  # no headers at all: a text/plain part
    else:
        blank = BLANK_LINE.search(window)
        head_end = head_start + blank.start() + 1 if blank else -1
    if head_end == -1:  # no end of the header block in sight: read as one long text
        attachment, encoding = False, ""
    else:
        attachment, encoding = _is_attachment(_headers(raw[head_start:head_end]))
    if attachment:
        allowed = int(attachment_max * EXPANSION.get(encoding, 1.05)) + HEAD_BYTES
        blank_end = raw.find(b"\n", head_end) + 1
        if end - start > allowed:
            size = int((end - head_end) / EXPANSION.get(encoding, 1.0))
            marker = f"X-Sustain-Cut-{nonce}: {size}\r\n".encode()
            return [raw[start:head_end], marker, raw[head_end:blank_end]], False
        if encoding != "base64":
            return [raw[start:end]], False
        marker = f"X-Sustain-Body-{nonce}: {blank_end} {end - blank_end}\r\n".encode()
        return [raw[start:head_end], marker, raw[head_end:blank_end]], False
    body_start = head_start if head_end == -1 else head_end
    stop = body_start + TEXT_BYTES
    line_end = raw.rfind(b"\n", stop - 64 * 1024, stop)
    if line_end != -1:
        return [raw[start : line_end + 1]], True
    return [raw[start:stop], b"\r\n"], True
