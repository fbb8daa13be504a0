"""Figure: mails per second ingested through `sustain mail serve --lmtp`, threading included.

Target: at least 100 mails/s on 2 cores with SQLite. A fresh data directory (SQLite) gets one
customer organization whose mail domain is routed to it and 50 known customers; then
`--clients` LMTP connections each run conversations: a new mail opens a ticket (a known or a
new sender), and replies (In-Reply-To and References of the conversation's earlier mails,
quoted text below, as mail clients write them) join it; a few out-of-office answers are
ignored. A reply is sent only after the server has acknowledged its parent. Every mail is
stored and committed before the server answers, exactly as a mail server would deliver.

Authentication (mail/authentication.py) runs on every mail, `--auth`:

- `dkim` (default): every mail is DKIM-signed relaxed/relaxed by acme.bench (a 2048-bit key made
  for the run, published with a DMARC `p=reject` policy to the ingest through
  SUSTAIN_MAIL_DNS_RESOLVER: no network), and SUSTAIN_MAIL_UNAUTHENTICATED=hold: each mail is
  verified, and one that did not pass would be held (the run fails if any is).
- `authres`: our receiving server's `Authentication-Results` (dmarc=pass) on every mail, its
  authserv-id trusted (SUSTAIN_MAIL_TRUSTED_AUTHSERV_ID), as behind a filtering MTA.
- `none`: unsigned mail from a domain without DMARC, accepted (the figure before the checks).

The figure is mails acknowledged per second of wall time. Afterwards the database is checked:
every mail stored once, replies on their tickets, nothing held.

    .venv/bin/python bench/mail_ingest.py [--mails 2000] [--clients 4] [--auth dkim]
    .venv/bin/python bench/mail_ingest.py --pipe 20   # also: seconds per `sustain mail ingest`
"""

from __future__ import annotations

import argparse
import os
import random
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from _common import dkim_key

ROOT = Path(__file__).resolve().parent.parent
SUSTAIN = os.environ.get("SUSTAIN_CLI", str(ROOT / ".venv" / "bin" / "sustain"))
TARGET = 100.0
DOMAIN = "acme.bench"
AUTHSERV_ID = "mx.acme-support.bench"
SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"in-reply-to", b"references"]
WORDS = [
    "checkout",
    "login",
    "invoice",
    "export",
    "report",
    "server",
    "timeout",
    "database",
    "printer",
    "vpn",
    "backup",
    "error",
    "slow",
    "page",
    "customer",
    "order",
    "payment",
    "sync",
    "mobile",
    "update",
    "certificate",
    "disk",
    "queue",
]

SETUP = f"""
from sustain.accounts import actions
from sustain.accounts.models import Organization
from sustain.mail.models import DomainRoute
provider = Organization.objects.create(name="Provider", slug="provider", is_provider=True)
acme = actions.create_organization(actions.system_actor(), name="Acme", slug="acme")
DomainRoute.objects.create(domain="{DOMAIN}", organization=acme)
for n in range(50):
    actions.create_user(None, email=f"known{{n}}@{DOMAIN}", name=f"Known {{n}}", organization=acme)
"""

CHECK = """
from sustain.mail.models import InboundMail
from sustain.desk.models import Ticket, Comment
from django.db.models import Count
by = dict(InboundMail.objects.values_list("status").annotate(n=Count("id")))
print(by.get("opened", 0), by.get("appended", 0), by.get("ignored", 0), by.get("held", 0),
      Ticket.objects.count(), Comment.objects.filter(channel="email").count())
"""


def sustain(env: dict[str, str], *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(
        [SUSTAIN, *args], env=env, input=stdin, capture_output=True, check=False, timeout=600
    )
    if done.returncode != 0:
        sys.exit(f"sustain {' '.join(args[:2])} failed: {done.stderr.decode()[-2000:]}")
    return done.stdout.decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def dkim_setup(data: Path) -> Callable[[bytes], bytes]:
    """A signing function for acme.bench; its key and a DMARC p=reject policy published to the
    ingest by a resolver module in `data` (SUSTAIN_MAIL_DNS_RESOLVER=bench_dns.txt)."""
    import dkim

    private, public = dkim_key()
    records = {
        f"bench._domainkey.{DOMAIN}": b"v=DKIM1; k=rsa; p=" + public,
        f"_dmarc.{DOMAIN}": b"v=DMARC1; p=reject",
    }
    (data / "bench_dns.py").write_text(
        f"RECORDS = {records!r}\n\n\n"
        "def txt(name, timeout=5):\n    return RECORDS.get(name.rstrip('.').lower())\n"
    )

    def sign(raw: bytes) -> bytes:
        relaxed = (b"relaxed", b"relaxed")
        present = [h for h in SIGNED_HEADERS if b"\n" + h + b":" in b"\n" + raw.lower()]
        signature = dkim.sign(
            raw, b"bench", DOMAIN.encode(), private, include_headers=present, canonicalize=relaxed
        )
        return signature.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + raw

    return sign


def authres(raw: bytes) -> bytes:
    """Our receiving server's verdict on top, as a filtering MTA in front would add it."""
    header = (
        f"Authentication-Results: {AUTHSERV_ID}; dkim=pass header.d={DOMAIN};"
        f" spf=pass smtp.mailfrom={DOMAIN}; dmarc=pass header.from={DOMAIN}\r\n"
    )
    return header.encode() + raw


class Conversations:
    """The mails one client sends: conversations of a first mail and replies."""

    def __init__(
        self, client: int, count: int, seed: int, finish: Callable[[bytes], bytes] | None = None
    ) -> None:
        self.rng = random.Random(seed + client)
        self.client = client
        self.count = count
        self.sent = 0
        self.finish = finish or (lambda raw: raw)  # signs or stamps the mail

    def message_id(self) -> str:
        self.sent += 1
        return f"<bench.{self.client}.{self.sent}.{time.time_ns()}@{DOMAIN}>"

    def mail(self, sender: str, subject: str, body: str, thread: list[str], **headers) -> bytes:
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = "support@sustain.localhost"
        msg["Subject"] = subject
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = self.message_id()
        if thread:
            msg["In-Reply-To"] = thread[-1]
            msg["References"] = " ".join(thread[-10:])
        for name, value in headers.items():
            msg[name] = value
        msg.set_content(body)
        return self.finish(msg.as_bytes().replace(b"\n", b"\r\n"))

    def first(self) -> tuple[str, str, bytes]:
        known = self.rng.random() < 0.7
        who = (
            f"known{self.rng.randrange(50)}@{DOMAIN}"
            if known
            else f"new{self.client}.{self.sent}.{self.rng.randrange(10**9)}@{DOMAIN}"
        )
        subject = text(self.rng, 4)
        body = "Hello,\n\n" + "\n".join(text(self.rng, 12) for _ in range(4)) + "\n\nThanks\n"
        return who, subject, self.mail(f"Customer <{who}>", subject, body, [])

    def reply(self, who: str, subject: str, thread: list[str], previous: str) -> bytes:
        quote = "\n".join(f"> {line}" for line in previous.splitlines())
        body = f"{text(self.rng, 15)}\n\nOn Mon, 23 Nov 2026 at 09:00, Support wrote:\n{quote}\n"
        return self.mail(f"Customer <{who}>", f"Re: {subject}", body, thread)

    def auto_reply(self, who: str, subject: str, thread: list[str]) -> bytes:
        body = "I am out of the office until Monday."
        return self.mail(
            who, f"Automatic reply: {subject}", body, thread, **{"Auto-Submitted": "auto-replied"}
        )


def plan(convo: Conversations) -> list[tuple[str, bytes]]:
    """A client's mails, made before the clock starts: conversations of 1 to 5 mails, a first
    mail then replies (In-Reply-To/References of the mails before it, the last one quoted) and
    now and then an out-of-office answer."""
    mails: list[tuple[str, bytes]] = []
    while len(mails) < convo.count:
        who, subject, raw = convo.first()
        thread, previous = [], raw.decode(errors="replace").split("\r\n\r\n", 1)[-1]
        for n in range(convo.rng.randint(1, 5)):
            if len(mails) >= convo.count:
                break
            if n:
                if convo.rng.random() < 0.08:
                    raw = convo.auto_reply(who, subject, thread)
                else:
                    raw = convo.reply(who, subject, thread, previous)
            mails.append((who, raw))
            thread.append(raw.split(b"Message-ID: ", 1)[1].split(b"\r\n", 1)[0].decode())
    return mails


def run_client(
    port: int, mails: list[tuple[str, bytes]], stats: dict, lock: threading.Lock
) -> None:
    """Send the mails in order on one connection; each waits for the answer to the one
    before, so a reply always reaches the server after the mail it answers was stored."""
    with smtplib.LMTP("127.0.0.1", port) as lmtp:
        for who, raw in mails:
            refused = lmtp.sendmail(who, ["support@sustain.localhost"], raw)
            if refused:
                raise RuntimeError(f"refused: {refused}")
    with lock:
        stats["sent"] += len(mails)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pipe", type=int, default=0, help="also time N `mail ingest` runs")
    parser.add_argument("--auth", choices=["dkim", "authres", "none"], default="dkim")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="sustain-bench-mail-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"SUSTAIN_DATA_DIR": str(data), "SUSTAIN_SECRET_KEY": "bench-" + "x" * 40}
    finish = None
    if args.auth == "dkim":
        finish = dkim_setup(data)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(data), env.get("PYTHONPATH")]))
        env |= {
            "SUSTAIN_MAIL_DNS_RESOLVER": "bench_dns.txt",
            "SUSTAIN_MAIL_UNAUTHENTICATED": "hold",
        }
    elif args.auth == "authres":
        finish = authres
        env |= {
            "SUSTAIN_MAIL_TRUSTED_AUTHSERV_ID": AUTHSERV_ID,
            "SUSTAIN_MAIL_UNAUTHENTICATED": "hold",
        }
    print(f"data directory {data} (SQLite); authentication: {args.auth}")
    sustain(env, "migrate", "--noinput")
    sustain(env, "shell", "-c", SETUP)

    port = free_port()
    server = subprocess.Popen(
        [SUSTAIN, "mail", "serve", "--lmtp", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # "Receiving mail (LMTP) on …"
        per_client = [args.mails // args.clients] * args.clients
        per_client[0] += args.mails - sum(per_client)
        stats, lock = {"sent": 0}, threading.Lock()
        plans = [plan(Conversations(i, n, args.seed, finish)) for i, n in enumerate(per_client)]
        threads = [
            threading.Thread(target=run_client, args=(port, mails, stats, lock)) for mails in plans
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    rate = stats["sent"] / seconds
    opened, appended, ignored, held, tickets, comments = map(
        int, sustain(env, "shell", "-c", CHECK).split()[-6:]
    )
    print(
        f"{stats['sent']} mails over {args.clients} LMTP connections in {seconds:.1f} s: "
        f"{opened} opened, {appended} appended, {ignored} ignored, {held} held; "
        f"{tickets} tickets, {comments} e-mail comments"
    )
    if opened + appended + ignored + held != stats["sent"] or held or comments != appended:
        sys.exit("the stored mails do not add up")

    if args.pipe:
        convo = Conversations(99, args.pipe, args.seed, finish)
        started = time.perf_counter()
        for _ in range(args.pipe):
            sustain(env, "mail", "ingest", stdin=convo.first()[2])
        each = (time.perf_counter() - started) / args.pipe
        print(f"pipe: {each * 1000:.0f} ms per `sustain mail ingest` process (start-up included)")

    print(f"FIGURE mail_ingest_lmtp_per_s={rate:.0f} (authentication: {args.auth})")
    if rate < TARGET:
        sys.exit(1)


if __name__ == "__main__":
    main()
