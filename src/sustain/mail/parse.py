"""Parsing inbound e-mail into what the desk needs, whatever the client, charset or encoding.

Built on the standard library's `email`. The message is read with `policy.compat32`, which
keeps headers as the strings they arrived as (the structured header objects of
`policy.default` cost more than the rest of ingestion's parsing); the few headers shown to
people are decoded here: raw UTF-8 (RFC 6532), else Latin-1, then RFC 2047 encoded words.
Quoted earlier messages and signatures are folded away with `mail-parser-reply`, HTML is
turned into text with `html2text` and sanitised with `nh3` for display. Nothing here raises on
a malformed mail except `MailError` for one that cannot be answered at all (no sender).

Memory stays bounded whatever the mail's size and shape: `shrink` cuts long texts and oversized
attachments out before the stdlib parser sees them, the parser is fed in chunks, and the text
is cut to `TEXT_KEEP` characters before the costly steps (HTML to text, quote folding). A
40 MiB one-line mail costs about as much as a 2 MiB one (docs/benchmarks.md). What was cut
shows in `ParsedMail.cut`; the mail as received is kept whole by the caller.
"""

from __future__ import annotations

import binascii
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email._encoded_words import decode_b  # noqa: PLC2701 (the stdlib's lenient base64, for broken bodies)
from email.feedparser import FeedParser
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

import html2text
import nh3
from django.conf import settings
from mailparser_reply import EmailReplyParser

from sustain.desk.models import TEXT_MAX
from sustain.mail.shrink import TEXT_BYTES, shrink

KEY_IN_SUBJECT = re.compile(r"\[((?:INC|REQ|BUG)-\d+)\]", re.IGNORECASE)
MESSAGE_ID = re.compile(r"<([^<>\s\x00]{1,250})>")
BOUNCE_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|mail-daemon|bounce[s]?)([+@]|$)", re.IGNORECASE
)
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]
# Characters of text kept from a mail: a bit over what a description or comment takes, so the
# reply (quotes folded away) of a long mail still fills it, and the cut lands where it ends.
TEXT_KEEP = TEXT_MAX + TEXT_MAX // 5
HTML_KEEP = TEXT_BYTES // 2  # characters of HTML turned into text (html2text: ~2 s/MiB)
FEED_CHUNK = 64 * 1024
TEXT_CUT_MARK = (
    "\n\n[The text was cut here: the e-mail goes on. Download it as received to read it all.]"
)


class MailError(ValueError):
    """A message that cannot be ingested at all."""


@dataclass
class Attachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""
    inline: bool = False
    refused: str = ""  # why it is not attached (its content was not even read)


@dataclass
class ParsedMail:
    message_id: str
    subject: str
    sender: str
    sender_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    reply: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    auto_reason: str = ""
    cut: bool = False  # `text` is the beginning of a longer text (the raw mail is whole)

    @property
    def stored_text(self) -> str:
        """`text` as kept on the received mail, saying so where it was cut."""
        return self.text + TEXT_CUT_MARK if self.cut else self.text

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, nearest first."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen

    @property
    def ticket_keys(self) -> list[str]:
        return [k.upper() for k in KEY_IN_SUBJECT.findall(self.subject)]


FOLDING = re.compile(r"\r?\n(?=[ \t])")


def _unbytes(value: str) -> str:
    """A header as received: 8-bit bytes (kept as surrogates) read as UTF-8, else Latin-1;
    without NUL characters, which no database column takes."""
    value = value.replace("\x00", "")
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("ascii", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _raw_values(message: Message, name: str) -> list[str]:
    wanted = name.lower()
    return [
        FOLDING.sub("", _unbytes(str(v)))
        for k, v in message._headers  # type: ignore[attr-defined]
        if k.lower() == wanted
    ]


def _header(message: Message, name: str) -> str:
    """The first `name` header, unfolded, as received (encoded words not decoded)."""
    values = _raw_values(message, name)
    return values[0].strip() if values else ""


ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def decode_words(value: str) -> str:
    """RFC 2047 encoded words ("=?utf-8?q?J=C3=BCrgen?=") decoded, each on its own (so raw
    UTF-8 around them survives); white space between two encoded words goes, as the RFC says;
    a word that does not decode is left as it came."""
    if "=?" not in value:
        return value
    out: list[str] = []
    end, after_word = 0, False
    for match in ENCODED_WORD.finditer(value):
        between = value[end : match.start()]
        if not (after_word and not between.strip()):
            out.append(between)
        try:
            out.append(str(make_header(decode_header(match.group()))))
        except Exception:  # an unknown charset or broken encoding
            out.append(match.group())
        end, after_word = match.end(), True
    out.append(value[end:])
    return "".join(out).replace("\x00", "")


def _ids(value: str) -> list[str]:
    return [m.strip().lower() for m in MESSAGE_ID.findall(value or "")][:100]


def _addresses(message: Message, name: str) -> list[tuple[str, str]]:
    pairs = getaddresses(_raw_values(message, name))
    return [(decode_words(n).strip(), a.strip().lower()) for n, a in pairs if "@" in a]


def _text_of(part: Message) -> str:
    """A text part's content in any charset; unknown charsets are read as Latin-1."""
    payload = part.get_payload(decode=True) or b""
    if not isinstance(payload, bytes):
        return str(payload)
    charset = part.get_content_charset() or "us-ascii"
    if charset in {"us-ascii", "ascii"}:
        charset = "utf-8"  # what undeclared 8-bit text is, nowadays
    try:
        text = payload.decode(charset, "replace")
    except (LookupError, ValueError):
        text = payload.decode("latin-1", "replace")
    return text.replace("\x00", "")


def _filename(part: Message) -> str:
    """The attachment's name: RFC 2231 parameters, or the encoded words many clients send."""
    try:
        name = part.get_filename() or ""
    except Exception:  # a malformed parameter: the part is still kept, under a made-up name
        return ""
    return decode_words(FOLDING.sub("", _unbytes(str(name)))).strip()


def html_to_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    return converter.handle(html).strip()


def sanitise_html(html: str) -> str:
    return nh3.clean(html, url_schemes={"http", "https", "mailto", "cid"})


ATTRIBUTION = re.compile(
    r"(wrote|schrieb|a écrit|escribió|ha scritto|schreef|skrev|napisał|написал)\s*:\s*$"
    r"|^\s*(on|am|le|el|il|op|den|dnia)\b.*:\s*$",
    re.IGNORECASE,
)


def _fold_quotes(text: str) -> str:
    """Drop '>'-quoted lines with the attribution line above them ("On … wrote:") and cut at
    the signature separator ("-- "): what bottom-posting and inline-answering clients
    (Thunderbird, mutt, Apple Mail) leave after the reply parser."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line in ("-- ", "--") and i > 0:
            lines = lines[:i]
            break
    kept: list[str] = []
    for line in lines:
        if line.lstrip().startswith(">"):
            while kept and not kept[-1].strip():
                kept.pop()
            if kept and ATTRIBUTION.search(kept[-1]):
                kept.pop()
                # an attribution wrapped over two lines ("On Mon, … <x@y>" / "wrote:")
                if (
                    kept
                    and kept[-1].strip()
                    and not kept[-1].rstrip().endswith((".", "!", "?"))
                    and ATTRIBUTION.search(kept[-1] + " wrote:")
                ):
                    kept.pop()
            continue
        kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def split_reply(text: str) -> str:
    """The newest part of a reply, without quoted earlier messages and signatures."""
    if not text.strip():
        return ""
    try:
        reply = EmailReplyParser(languages=REPLY_LANGUAGES).read(text).latest_reply or ""
    except Exception:  # the folding is a nicety: never lose a message over it
        reply = text
    reply = (reply or text).strip()
    return _fold_quotes(reply) or reply


def _auto_reason(message: Message, sender: str) -> str:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = _header(message, "Precedence").lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if _header(message, name):
            return f"{name} header"
    suppress = _header(message, "X-Auto-Response-Suppress").lower()
    if any(word in suppress for word in ("all", "oof", "autoreply")) and _header(
        message, "X-MS-Exchange-Inbox-Rules-Loop"
    ):
        return "Exchange auto-reply"
    if message.get_content_type() == "multipart/report":
        return "delivery status report"
    if BOUNCE_SENDERS.match(sender):
        return f"sent by {sender.split('@')[0]}"
    if _header(message, "Return-Path") == "<>":
        return "null sender (bounce)"
    return ""


def parse(raw: bytes) -> ParsedMail:
    """Read a whole message (bytes as received); only MailError comes out of here."""
    try:
        return _parse(raw)
    except MailError:
        raise
    except Exception as exc:  # the stdlib parser has corner cases of its own
        raise MailError(f"The message cannot be read: {type(exc).__name__}: {exc}") from exc


def _read(data: bytes) -> Message:
    """The message structure, as `BytesParser` reads it, but fed in chunks: the whole mail as
    one string (and the parser's copy of it) is never made."""
    parser = FeedParser(policy=policy.compat32)
    view = memoryview(data)
    for at in range(0, len(data), FEED_CHUNK):
        parser.feed(str(view[at : at + FEED_CHUNK], "ascii", "surrogateescape"))
    return parser.close()


def _base64_at(raw: bytes, where: str) -> bytes:
    """A base64 body that `shrink` left in the raw mail ("<offset> <length>"), decoded from
    there without a copy (line ends and other non-alphabet bytes are skipped)."""
    offset, length = (int(n) for n in where.split())
    encoded = memoryview(raw)[offset : offset + length]
    try:
        return binascii.a2b_base64(encoded)
    except binascii.Error:  # missing padding: what the stdlib does, on a copy
        return decode_b(b"".join(bytes(encoded).split()))[0]


def _keep(parts: list[str], limit: int, separator: str) -> tuple[str, bool]:
    """The parts joined, at most `limit` characters; and whether anything was left out."""
    kept: list[str] = []
    room = limit
    for part in parts:
        if room <= 0:
            return separator.join(kept), True
        kept.append(part[:room])
        room -= len(kept[-1]) + len(separator)
        if len(part) > len(kept[-1]):
            return separator.join(kept), True
    return separator.join(kept), False


def _date(text: str) -> datetime | None:
    """The Date header as an aware instant (None: missing, unreadable or without a zone)."""
    try:
        date = parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError, IndexError):
        return None
    if date is not None and date.tzinfo is None:
        return None
    return date


def _payload(
    part: Message, raw: bytes, body_header: str, cut_header: str
) -> tuple[bytes, str] | None:
    """An attachment's content and why it was refused ("" if it was not); None if it is empty.
    A part shrink() set aside is read from the raw message, one it dropped is refused."""
    if where := _header(part, body_header):
        return _base64_at(raw, where), ""
    if dropped := _header(part, cut_header):
        limit = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        return b"", f"larger than {limit} MiB (about {int(dropped) // (1024 * 1024)} MiB)"
    decoded = part.get_payload(decode=True)
    part.set_payload("")  # the encoded copy goes now, not when the message does
    if not isinstance(decoded, bytes) or not decoded:
        return None
    return decoded, ""


def _parse(raw: bytes) -> ParsedMail:
    nonce = secrets.token_hex(8)
    shrunk = shrink(raw, nonce, settings.ATTACHMENT_MAX_BYTES)
    message = _read(shrunk.data)
    cut_header, body_header = f"X-Sustain-Cut-{nonce}", f"X-Sustain-Body-{nonce}"
    senders = (
        _addresses(message, "From")
        or _addresses(message, "Sender")
        or _addresses(message, "Reply-To")
    )
    if not senders:
        raise MailError("The message has no sender address.")
    sender_name, sender = senders[0]
    ids = _ids(_header(message, "Message-ID"))
    message_id = ids[0] if ids else f"sha256-{hashlib.sha256(raw).hexdigest()[:40]}@sustain.invalid"
    date = _date(_header(message, "Date"))

    text_parts: list[str] = []
    html_parts: list[str] = []
    attachments: list[Attachment] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        if disposition != "attachment" and not filename and content_type == "text/plain":
            text_parts.append(_text_of(part))
        elif disposition != "attachment" and not filename and content_type == "text/html":
            html_parts.append(_text_of(part))
        elif content_type in {"message/delivery-status", "message/rfc822", "text/rfc822-headers"}:
            continue
        else:
            found = _payload(part, raw, body_header, cut_header)
            if found is None:
                continue
            payload, refused = found
            cid = _ids(_header(part, "Content-ID"))
            attachments.append(
                Attachment(
                    filename=filename or f"attachment{len(attachments) + 1}",
                    content_type=content_type,
                    content=payload,
                    content_id=cid[0] if cid else "",
                    inline=disposition == "inline" or bool(cid and not filename),
                    refused=refused,
                )
            )
    html, html_cut = _keep(html_parts, HTML_KEEP, "\n")
    text, cut = _keep([t.strip() for t in text_parts if t.strip()], TEXT_KEEP, "\n\n")
    if not text and html:
        text, cut = _keep([html_to_text(html)], TEXT_KEEP, "")
        cut = cut or html_cut
    return ParsedMail(
        message_id=message_id,
        subject=decode_words(_header(message, "Subject"))[:300] or "(no subject)",
        sender=sender,
        sender_name=sender_name,
        to=[a for _, a in _addresses(message, "To")],
        cc=[a for _, a in _addresses(message, "Cc")],
        in_reply_to=_ids(_header(message, "In-Reply-To")),
        references=_ids(_header(message, "References")),
        date=date,
        text=text,
        html=sanitise_html(html) if html else "",
        reply=split_reply(text),
        attachments=attachments,
        auto_reason=_auto_reason(message, sender),
        cut=cut or shrunk.text_cut,
    )


def format_address(name: str, address: str) -> str:
    return str(Address(display_name=name, addr_spec=address))
