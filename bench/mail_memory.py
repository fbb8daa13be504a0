"""Figure: peak memory (RSS) of one `sustain mail ingest < mail.eml` for mails at the size limit.

Target: under 300 MB for every shape at 40 MiB (the default SUSTAIN_MAIL_MAX_BYTES). A fresh
SQLite data directory gets a customer organization whose domain is routed to it, a customer
and one open ticket; then each shape is generated into a file and ingested by its own
`sustain mail ingest` process (a mail server's pipe: the whole mail read from standard input),
whose peak RSS is read from the kernel (its own `VmHWM`). Shapes: one line of text, one
line of HTML, base64 and quoted-printable text, many short lines (half of them quoted), a
one-line reply that joins the open ticket as a comment, and three 9 MiB PDF attachments (under
the 10 MiB attachment limit, so all are read and attached).

    .venv/bin/python bench/mail_memory.py [--mib 40] [--shapes plain,html,...] [--signed]

`--signed` DKIM-signs every mail (relaxed/relaxed, as the large mail providers sign) with a key
made for the run and published to the ingest through SUSTAIN_MAIL_DNS_RESOLVER (no network).

Also imported by tests/mail/test_size.py, which runs the one-line case.
"""

from __future__ import annotations

import argparse
import base64
import os
import quopri
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 300.0
MIB = 1024 * 1024
HEAD = (
    "From: Carol <carol@acme.test>\r\nTo: support@sustain.localhost\r\n"
    "Subject: {subject}\r\nMessage-ID: <{shape}-{stamp}@acme.test>\r\n"
    "Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
)
SETUP = """
import django

django.setup()
from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, User
from sustain.desk import actions as desk
from sustain.mail.models import DomainRoute

provider = Organization.objects.create(name="Northwind", slug="northwind", is_provider=True)
root = User.objects.create_superuser("root@northwind.test", None, organization=provider)
acme = accounts.create_organization(root, name="Acme", slug="acme")
DomainRoute.objects.create(domain="acme.test", organization=acme)
carol = accounts.create_user(root, email="carol@acme.test", name="Carol", organization=acme)
print(desk.open_ticket(carol, title="The ticket replies join").key)
"""
SHAPES = ("plain", "html", "base64", "quoted-printable", "lines", "reply", "attachments")


def _fill(size: int, unit: bytes) -> bytes:
    return (unit * (size // len(unit) + 1))[:size]


def make_mail(shape: str, size: int, ticket_key: str = "INC-1") -> bytes:
    """A mail of `shape` whose whole size (headers included) is `size` bytes, or just under."""
    subject = f"Re: [{ticket_key}] a long answer" if shape == "reply" else f"A long {shape} mail"
    head = HEAD.format(subject=subject, shape=shape, stamp=time.time_ns()).encode()
    room = size - len(head) - 200  # the part headers and the blank line
    words = b"the quick brown fox jumps over the lazy dog "
    if shape in ("plain", "reply"):
        ctype, body = "text/plain; charset=utf-8", _fill(room, words)
        encoding = "8bit"
    elif shape == "html":
        start, end = b"<html><body><p>", b"</p></body></html>"
        inner = _fill(room - len(start) - len(end), b"the <b>quick</b> brown &amp; fox ")
        ctype, body, encoding = "text/html; charset=utf-8", start + inner + end, "8bit"
    elif shape == "base64":
        ctype, encoding = "text/plain; charset=utf-8", "base64"
        body = base64.encodebytes(_fill(room // 4 * 3 - room // 77, words))
    elif shape == "quoted-printable":
        ctype, encoding = "text/plain; charset=utf-8", "quoted-printable"
        body = quopri.encodestring(_fill(room, "grüße aus köln ".encode()))
        body = body[: body.rfind(b"\n", 0, room) + 1]
    elif shape == "attachments":  # as many attachments under the 10 MiB limit as fit
        return head + _attachments(room)
    elif shape == "lines":
        ctype, encoding = "text/plain; charset=utf-8", "8bit"
        body = _fill(room, b"a short line of an answer\r\n> a quoted line of the last one\r\n")
    else:
        raise ValueError(f"unknown shape {shape}")
    part = f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n".encode()
    return head + part + body


def _attachments(room: int) -> bytes:
    boundary = b"==bench-boundary=="
    parts = [b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n']
    parts.append(b"--" + boundary + b"\r\nContent-Type: text/plain\r\n\r\nThe scans.\r\n")
    pdf = b"%PDF-1.4\n" + _fill(9 * MIB, b"0123456789abcdef")
    encoded = base64.encodebytes(pdf).replace(b"\n", b"\r\n")
    n = 0
    while room - sum(map(len, parts)) > len(encoded) + 1000:
        n += 1
        parts.append(
            b"--" + boundary + b"\r\nContent-Type: application/pdf\r\n"
            b"Content-Transfer-Encoding: base64\r\n"
            b'Content-Disposition: attachment; filename="scan%d.pdf"\r\n\r\n' % n + encoded
        )
    parts.append(b"--" + boundary + b"--\r\n")
    return b"".join(parts)


def environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="sustain.settings",
        SUSTAIN_DATA_DIR=str(data_dir),
        SUSTAIN_SECRET_KEY="mail-memory-bench-key",
    )
    if (data_dir / "bench_dns.py").exists():  # --signed: the key's TXT record, offline
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(data_dir), env.get("PYTHONPATH")]))
        env["SUSTAIN_MAIL_DNS_RESOLVER"] = "bench_dns.txt"
    return env


def signer(data_dir: Path):  # type: ignore[no-untyped-def]
    """A function that DKIM-signs a mail as acme.test, its public key published for the ingest."""
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    (data_dir / "bench_dns.py").write_text(
        f"RECORDS = {{'bench._domainkey.acme.test': {record!r}}}\n\n\n"
        "def txt(name, timeout=5):\n    return RECORDS.get(name.rstrip('.').lower())\n"
    )
    headers = [b"from", b"to", b"subject", b"date", b"message-id"]

    def sign(raw: bytes) -> bytes:
        relaxed = (b"relaxed", b"relaxed")
        signature = dkim.sign(
            raw, b"bench", b"acme.test", private, include_headers=headers, canonicalize=relaxed
        )
        return signature + raw

    return sign


def prepare(data_dir: Path) -> str:
    """Migrate a fresh data directory and add the customer; the open ticket's key."""
    env = environment(data_dir)
    run = {"env": env, "check": True, "capture_output": True, "text": True, "timeout": 300}
    subprocess.run([sys.executable, "-m", "sustain.cli", "migrate", "-v", "0"], **run)  # type: ignore[call-overload]
    done = subprocess.run([sys.executable, "-c", SETUP], **run)  # type: ignore[call-overload]
    return done.stdout.strip().splitlines()[-1]


# `sustain mail ingest` itself, then the peak of its own memory. Not `wait4`'s ru_maxrss: a
# child started by fork or vfork inherits the parent's high-water mark at exec, so a big parent
# (a test run) would be measured instead. VmHWM is the high-water mark of the new image alone.
INGEST = """
import re, sys
from sustain.cli import main

try:
    main(["sustain", "mail", "ingest"])
finally:
    status = open("/proc/self/status").read()
    print("PEAK", re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1), flush=True)
"""


def ingest_peak(data_dir: Path, mail: Path) -> tuple[float, float, str]:
    """Peak RSS (MB) and seconds of one `sustain mail ingest < mail`, and what it printed."""
    started = time.monotonic()
    with mail.open("rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-c", INGEST],
            env=environment(data_dir),
            stdin=stdin,
            capture_output=True,
            timeout=600,
            check=False,
        )
    seconds = time.monotonic() - started
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0 or len(lines) < 2 or not lines[-1].startswith("PEAK "):
        output = (done.stdout + done.stderr).decode("utf-8", "replace")
        raise RuntimeError(f"sustain mail ingest exited {done.returncode}: {output[-2000:]}")
    return int(lines[-1].split()[1]) / 1024, seconds, lines[-2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=float, default=40.0, help="size of each mail")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--signed", action="store_true", help="DKIM-sign every mail")
    args = parser.parse_args()
    size = int(args.mib * MIB)
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="sustain-mail-memory-") as tmp:
        data_dir = Path(tmp) / "data"
        key = prepare(data_dir)
        sign = signer(data_dir) if args.signed else None
        for shape in args.shapes.split(","):
            mail = Path(tmp) / f"{shape}.eml"
            raw = make_mail(shape, size - (1000 if sign else 0), key)
            mail.write_bytes(sign(raw) if sign else raw)
            del raw
            peak, seconds, said = ingest_peak(data_dir, mail)
            worst = max(worst, peak)
            print(
                f"{shape:>16}: {mail.stat().st_size / MIB:5.1f} MiB  peak {peak:6.0f} MB  "
                f"{seconds:5.1f} s  {said[:70]}",
                flush=True,
            )
            mail.unlink()
    print(
        f"FIGURE peak RSS of one {'DKIM-signed ' if sign else ''}ingest at {args.mib:g} MiB, "
        f"worst shape: {worst:.0f} MB "
        f"(target < {TARGET_MB:.0f} MB)"
    )
    return 0 if worst < TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
