"""`sustain mail ingest | serve | fetch`: the three doors of inbound e-mail.

- `sustain mail ingest [--mailbox NAME] [FILE ...] < message.eml` for a mail server's pipe
  (Postfix `pipe`, Exim `pipe` transport, procmail, fetchmail's mda): exit code 0 whenever the
  mail was stored, whether it opened a ticket, joined one, was held or ignored; 75 (EX_TEMPFAIL,
  "try again later" to the mail server) only when it could not be stored; 65 (EX_DATAERR, the
  server bounces it) for a mail larger than SUSTAIN_MAIL_MAX_BYTES, which is read no further
  and not stored, as the SMTP receiver refuses it with 552.
- `sustain mail serve [--host H] [--port P] [--lmtp]`: an SMTP (or LMTP) receiver.
- `sustain mail fetch [--mailbox NAME]`: poll the active IMAP mailboxes once.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from sustain.mail import actions, imap, receive
from sustain.mail.models import Mailbox

EX_TEMPFAIL = 75
EX_DATAERR = 65


class Command(BaseCommand):
    help = "Receive e-mail: from a pipe, as an SMTP/LMTP server, or by polling IMAP mailboxes."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        ingest = sub.add_parser("ingest", help="Ingest one mail from standard input (or files).")
        ingest.add_argument("files", nargs="*", help="Mail files (.eml); standard input if none.")
        ingest.add_argument("--mailbox", default="", help="The mailbox (name) it arrived in.")
        ingest.add_argument(
            "--recipient",
            action="append",
            default=[],
            help="The envelope recipient (Postfix pipe: ${recipient}); it may carry a reply token.",
        )
        serve = sub.add_parser("serve", help="Receive mail over SMTP or LMTP.")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=None, help="8025 (SMTP), 8024 (LMTP)")
        serve.add_argument("--lmtp", action="store_true", help="Speak LMTP instead of SMTP.")
        fetch = sub.add_parser("fetch", help="Poll the active IMAP mailboxes once.")
        fetch.add_argument("--mailbox", default="", help="Only this mailbox (name).")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        getattr(self, f"_{verb}")(**options)

    def _mailbox(self, name: str) -> Mailbox | None:
        if not name:
            return None
        mailbox = Mailbox.objects.filter(name=name).select_related("organization", "team").first()
        if mailbox is None:
            raise CommandError(f"No mailbox named '{name}'.")
        return mailbox

    def _ingest(
        self,
        files: list[str],
        mailbox: str,
        stdin: Any = None,
        recipient: list[str] | None = None,
        **_: Any,
    ) -> None:
        box = self._mailbox(mailbox)
        limit = settings.MAIL_MAX_BYTES
        too_large: list[str] = []
        for name in files or ["<stdin>"]:
            # One byte past the limit tells a mail that is too large; no more is read. One
            # mail at a time, so many files cost no more memory than one.
            try:
                if name == "<stdin>" and not files:
                    raw = (stdin or sys.stdin.buffer).read(limit + 1)
                else:
                    with Path(name).open("rb") as file:
                        raw = file.read(limit + 1)
            except OSError as exc:
                raise CommandError(f"{name}: {exc.strerror}") from None
            if len(raw) > limit:
                too_large.append(name)
                self.stderr.write(
                    f"{name}: refused, larger than {limit // (1024 * 1024)} MiB "
                    "(SUSTAIN_MAIL_MAX_BYTES); not stored"
                )
                continue
            try:
                mail = actions.ingest(raw, mailbox=box, recipients=recipient or [])
            except (DatabaseError, OSError) as exc:
                raise CommandError(
                    f"{name}: not stored, try again later ({type(exc).__name__}: {exc})",
                    returncode=EX_TEMPFAIL,
                ) from None
            where = f" {mail.ticket.key}" if mail.ticket else ""
            reason = f": {mail.reason}" if mail.reason else ""
            self.stdout.write(f"{mail.status}{where} <{mail.message_id}>{reason}")
        if too_large:
            raise CommandError(f"{', '.join(too_large)}: too large", returncode=EX_DATAERR)

    def _serve(self, host: str, port: int | None, lmtp: bool, **_: Any) -> None:
        port = port or (8024 if lmtp else 8025)
        server = receive.receiver(host, port, lmtp=lmtp)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        server.start()
        kind = "LMTP" if lmtp else "SMTP"
        self.stdout.write(f"Receiving mail ({kind}) on {host}:{port}; Ctrl-C to stop.")
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            server.stop()

    def _fetch(self, mailbox: str, **_: Any) -> None:
        box = self._mailbox(mailbox)
        if box is not None:
            found = imap.poll(box)
            results = [found] if found is not None else []
            if found is None:
                self.stdout.write(f"{box.name}: inactive, or being polled by someone else")
        else:
            results = imap.fetch_all()
        failed = []
        for result in results:
            counts = ", ".join(f"{n} {status}" for status, n in sorted(result.statuses.items()))
            line = f"{result.mailbox}: {result.fetched} fetched" + (
                f" ({counts})" if counts else ""
            )
            if result.error:
                failed.append(result.mailbox)
                line += f"; failed: {result.error}"
            self.stdout.write(line)
        if failed:
            raise CommandError(f"Could not poll {', '.join(failed)}.")
