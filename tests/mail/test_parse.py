"""Parsing inbound mail: charsets, encodings, multipart shapes, auto-replies, and fuzzing."""

import contextlib
from email.message import EmailMessage

from hypothesis import given, settings
from hypothesis import strategies as st

from sustain.mail.parse import MailError, parse


def message(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Carol <carol@acme.example>")
    msg["To"] = "support@sustain.localhost"
    msg["Subject"] = headers.pop("Subject", "Printer on fire")
    msg["Message-ID"] = headers.pop("Message_ID", "<m1@acme.example>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg


def test_a_reply_in_latin1_quoted_printable_threads_and_folds_the_quote():
    raw = (
        b"From: =?iso-8859-1?q?J=FCrgen?= <J@Acme.example>\r\nSubject: Re: [inc-1042] Drucker\r\n"
        b"Message-ID: <a@acme.example>\r\nIn-Reply-To: <sustain-1@sustain.localhost>\r\n"
        b"References: <root@x> <sustain-1@sustain.localhost>\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Gr=FC=DFe, geht wieder.\r\n\r\nAm Mo., 23. Nov. 2026 um 09:00 schrieb Support <s@x>:\r\n> alt\r\n"
    )
    mail = parse(raw)
    assert (mail.sender, mail.sender_name) == ("j@acme.example", "Jürgen")
    assert mail.ticket_keys == ["INC-1042"]
    assert mail.thread_ids == ["sustain-1@sustain.localhost", "root@x"]
    assert mail.reply == "Grüße, geht wieder."
    assert "> alt" in mail.text


def test_multipart_alternative_html_is_sanitised_and_attachments_kept():
    msg = message()
    msg.set_content("Plain body")
    msg.add_alternative("<p>HTML <b>body</b><script>alert(1)</script></p>", subtype="html")
    msg.add_attachment(
        b"\x89PNG\r\n\x1a\n" + b"0" * 20, maintype="image", subtype="png", filename="shot.png"
    )
    mail = parse(msg.as_bytes())
    assert mail.text == "Plain body"
    assert "<b>body</b>" in mail.html and "script" not in mail.html
    assert [(a.filename, a.content_type) for a in mail.attachments] == [("shot.png", "image/png")]


def test_html_only_mail_becomes_text():
    msg = message()
    msg.set_content("<p>Only <i>HTML</i></p>", subtype="html")
    assert parse(msg.as_bytes()).text == "Only _HTML_"


def test_auto_replies_and_bounces_are_recognised():
    assert parse(message(Auto_Submitted="auto-replied").as_bytes()).auto_reason
    assert parse(message(Precedence="bulk").as_bytes()).auto_reason
    assert parse(message(X_Autoreply="yes").as_bytes()).auto_reason
    assert parse(message(From="MAILER-DAEMON@mx.example").as_bytes()).auto_reason
    assert parse(message(Auto_Submitted="no").as_bytes()).auto_reason == ""
    report = message()
    report.set_content("Delivery failed")
    report.make_mixed()
    report.replace_header(
        "Content-Type", 'multipart/report; report-type=delivery-status; boundary="b"'
    )
    assert "report" in parse(report.as_bytes()).auto_reason


def test_a_mail_without_message_id_gets_a_stable_one():
    msg = message()
    del msg["Message-ID"]
    msg.set_content("x")
    assert parse(msg.as_bytes()).message_id == parse(msg.as_bytes()).message_id


def test_a_mail_without_sender_is_refused_with_a_reason():
    try:
        parse(b"Subject: nobody\r\n\r\nbody")
    except MailError as exc:
        assert "sender" in str(exc)
    else:
        raise AssertionError("no MailError")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_either_parse_or_are_refused_with_mail_error(raw):
    with contextlib.suppress(MailError):
        parse(b"From: x@y.example\r\n" + raw)


HEADERS = st.sampled_from(
    [
        "Subject",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Message-ID",
        "References",
        "Date",
        "Content-Disposition",
        "From",
        "In-Reply-To",
        "Auto-Submitted",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(HEADERS, st.text(max_size=80)), max_size=8), st.binary(max_size=500))
def test_malformed_headers_never_raise(headers, body):
    lines = [b"From: a@b.example"] + [
        f"{n}: {v}".encode("utf-8", "surrogatepass") for n, v in headers
    ]
    with contextlib.suppress(MailError):
        parse(b"\r\n".join(lines) + b"\r\n\r\n" + body)


def test_raw_utf8_headers_and_encoded_words_are_decoded():
    raw = (
        "From: Jürgen Müller <jm@acme.example>\r\n"
        "Subject: Grüße =?utf-8?q?aus_K=C3=B6ln?=\r\n =?iso-8859-1?q?_=FCber_alles?=\r\n"
        "Message-ID: <u8@acme.example>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nHallo Welt\r\n"
    ).encode()
    mail = parse(raw)
    assert (mail.sender_name, mail.sender) == ("Jürgen Müller", "jm@acme.example")
    assert mail.subject == "Grüße aus Köln über alles"
    assert mail.text == "Hallo Welt"


def test_attachment_names_in_rfc2231_and_in_encoded_words():
    raw = (
        b"From: c@acme.example\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee files\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''%C3%A4rger.pdf\r\n\r\nJVBERi0x\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="=?UTF-8?B?w7xiZXIucGRm?="\r\n\r\nJVBERi0x\r\n'
        b"--b--\r\n"
    )
    assert [a.filename for a in parse(raw).attachments] == ["ärger.pdf", "über.pdf"]


def test_an_unknown_charset_is_read_as_latin1():
    raw = (
        b"From: c@acme.example\r\nSubject: x\r\nContent-Type: text/plain; charset=x-unknown\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nCaf\xe9\r\n"
    )
    assert parse(raw).text == "Café"


def test_nul_characters_and_overlong_message_ids_never_reach_the_database():
    raw = (
        b"From: Nul\x00l <n@acme.example>\r\nSubject: a\x00b =?utf-8?q?c=00d?=\r\n"
        b"Message-ID: <"
        + b"x" * 300
        + b"@long>\r\nIn-Reply-To: <ok@acme.example>\r\n\r\nte\x00xt\r\n"
    )
    mail = parse(raw)
    assert (mail.sender_name, mail.subject, mail.text) == ("Null", "ab cd", "text")
    assert mail.message_id.startswith("sha256-") and mail.in_reply_to == ["ok@acme.example"]
