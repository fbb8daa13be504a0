"""Mails for the tests, in the shapes real clients and servers write them.

Each builder returns bytes as they would arrive: headers and transfer encodings included.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
SUPPORT = "support@sustain.localhost"
_counter = itertools.count(1)


def wire(raw: bytes) -> bytes:
    """CRLF line ends, as mail travels (smtplib sends bytes as they are)."""
    return re.sub(rb"\r?\n", b"\r\n", raw)


def message_id(domain: str = "mail.test") -> str:
    return f"<t{next(_counter)}.{datetime.now(UTC).timestamp():.6f}@{domain}>"


def _headers(msg, sender: str, subject: str, mid: str | None, reply_to: str | None, refs: str):
    msg["From"] = sender
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = mid or message_id()
    if reply_to:
        msg["In-Reply-To"] = reply_to
        msg["References"] = (refs + " " + reply_to).strip()


def text_part(text: str, charset: str, encoding: str, subtype: str = "plain") -> MIMENonMultipart:
    """A text part encoded exactly as asked: quoted-printable, base64 or 8bit."""
    import base64
    import quopri

    part = MIMENonMultipart("text", subtype, charset=charset)
    data = text.encode(charset)
    if encoding == "quoted-printable":
        part.set_payload(quopri.encodestring(data).decode("ascii"))
    elif encoding == "base64":
        part.set_payload(base64.encodebytes(data).decode("ascii"))
    else:
        part.set_payload(data.decode(charset), charset=None)
    part["Content-Transfer-Encoding"] = encoding
    return part


def plain(
    sender: str,
    subject: str,
    body: str,
    *,
    mid: str | None = None,
    in_reply_to: str | None = None,
    references: str = "",
    **headers: str,
) -> bytes:
    """A plain text mail in UTF-8."""
    msg = EmailMessage()
    _headers(msg, sender, subject, mid, in_reply_to, references)
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return wire(msg.as_bytes())


def with_attachments(
    sender: str, subject: str, body: str, files: list[tuple[str, str, bytes]], **kw
) -> bytes:
    """multipart/mixed: text, then base64 attachments (filename, mime type, content)."""
    msg = EmailMessage()
    _headers(msg, sender, subject, kw.get("mid"), kw.get("in_reply_to"), kw.get("references", ""))
    msg.set_content(body)
    for filename, mime, content in files:
        maintype, subtype = mime.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return wire(msg.as_bytes())


def html_with_inline_image(sender: str, subject: str, text: str, html: str) -> bytes:
    """multipart/alternative with a multipart/related HTML part carrying an inline image
    (Content-ID, no filename), as Apple Mail and Outlook send a pasted screenshot."""
    msg = EmailMessage()
    _headers(msg, sender, subject, None, None, "")
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    html_part = msg.get_payload()[1]
    html_part.add_related(PNG, maintype="image", subtype="png", cid="<shot1@client.test>")
    return wire(msg.as_bytes())


def gmail_reply(
    sender: str, subject: str, reply: str, quoted: str, *, in_reply_to: str, references: str = ""
) -> bytes:
    """Gmail: multipart/alternative, quoted-printable UTF-8, "On … wrote:" and a gmail_quote."""
    msg = MIMEMultipart("alternative")
    _headers(msg, sender, subject, message_id("mail.gmail.com"), in_reply_to, references)
    quote = "\n".join(f"> {line}" for line in quoted.splitlines())
    text = f"{reply}\n\nOn Mon, 23 Nov 2026 at 09:00, Sustain <{SUPPORT}> wrote:\n\n{quote}\n"
    html = (
        f'<div dir="ltr">{reply}</div><br><div class="gmail_quote"><div class="gmail_attr">'
        f"On Mon, 23 Nov 2026 at 09:00, Sustain &lt;{SUPPORT}&gt; wrote:<br></div>"
        f'<blockquote class="gmail_quote">{quoted}</blockquote></div>'
    )
    msg.attach(text_part(text, "utf-8", "quoted-printable"))
    msg.attach(text_part(html, "utf-8", "quoted-printable", "html"))
    return wire(msg.as_bytes())


def outlook_reply(
    sender: str, subject: str, reply: str, quoted: str, *, in_reply_to: str, references: str = ""
) -> bytes:
    """Outlook: windows-1252, quoted-printable, a header block instead of "wrote:", no
    quoting marks, Thread-Index; "RE:" in capitals."""
    text = (
        f"{reply}\r\n\r\n________________________________\r\n"
        f"From: Sustain <{SUPPORT}>\r\nSent: Monday, November 23, 2026 9:00 AM\r\n"
        f"To: {sender}\r\nSubject: {subject.removeprefix('RE: ')}\r\n\r\n{quoted}\r\n"
    )
    part = text_part(text, "windows-1252", "quoted-printable")
    _headers(part, sender, subject, message_id("EUR01.prod.outlook.com"), in_reply_to, references)
    part["Thread-Index"] = "AQHZ1234567890abcdef=="
    part["Content-Language"] = "de-DE"
    return wire(part.as_bytes())


def thunderbird_reply(
    sender: str, subject: str, reply: str, quoted: str, *, in_reply_to: str, references: str = ""
) -> bytes:
    """Thunderbird: format=flowed ISO-8859-15 in 8bit, "On … wrote:", and a "-- " signature."""
    quote = "\n".join(f"> {line}" for line in quoted.splitlines())
    text = (
        f"On 23/11/2026 09:00, Sustain wrote:\n{quote}\n\n{reply}\n\n-- \n"
        "Jürgen Müller · Acme Ops · +49 30 1234\n"
    )
    msg = EmailMessage()
    _headers(msg, sender, subject, message_id("acme.test"), in_reply_to, references)
    msg["User-Agent"] = "Mozilla Thunderbird"
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = 'text/plain; charset="ISO-8859-15"; format=flowed'
    msg["Content-Transfer-Encoding"] = "8bit"
    head = msg.as_bytes().split(b"\n\n", 1)[0]
    return wire(head + b"\n\n" + text.encode("iso-8859-15"))


def koi8_mail(sender: str) -> bytes:
    """A Russian mail in KOI8-R, subject encoded-word in KOI8-R base64."""
    body = "Принтер не печатает с утра."
    subject = "=?koi8-r?b?" + _b64("Принтер сломан".encode("koi8-r")) + "?="
    return (
        (
            f"From: {sender}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\n"
            f"Message-ID: {message_id()}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        ).encode("ascii")
        + body.encode("koi8-r")
        + b"\r\n"
    )


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def auto_reply(sender: str, subject: str, *, in_reply_to: str = "") -> bytes:
    """An out-of-office answer (RFC 3834 Auto-Submitted, as Exchange and Gmail send)."""
    return plain(
        sender,
        f"Automatic reply: {subject}",
        "I am out of the office until Monday.",
        in_reply_to=in_reply_to or None,
        Auto_Submitted="auto-replied",
        X_Auto_Response_Suppress="All",
    )


def bounce(original_recipient: str, subject: str) -> bytes:
    """A delivery status notification from MAILER-DAEMON (multipart/report, RFC 3464)."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.acme.test>\r\n"
        f"To: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {message_id('mx.acme.test')}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\n"
        f"This is the mail system. Your message to {original_recipient} could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.acme.test\r\n\r\nFinal-Recipient: rfc822; {original_recipient}\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Subject: {subject}\r\n"
        "--B--\r\n"
    ).encode()
