"""`sustain mail ingest` (a mail server's pipe) and `sustain mail serve`, as commands."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
import tempfile
from io import BytesIO, StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from sustain.mail.models import InboundMail
from tests.base import SustainTestCase
from tests.mail import mails
from tests.mail.peers import free_port

CAROL = "Carol Customer <carol@acme.test>"


class PipeTests(SustainTestCase):
    def pipe(self, raw: bytes, *args: str) -> str:
        out = StringIO()
        with self.captureOnCommitCallbacks(execute=True):
            call_command("mail", "ingest", *args, stdin=BytesIO(raw), stdout=out)
        return out.getvalue()

    def test_a_piped_mail_opens_a_ticket_and_says_so(self):
        output = self.pipe(mails.plain(CAROL, "Piped", "Through procmail."))
        found = InboundMail.objects.get()
        self.assertEqual(output.strip(), f"opened {found.ticket.key} <{found.message_id}>")

    def test_held_and_ignored_mail_exit_normally(self):
        self.assertTrue(self.pipe(mails.plain("x@stranger.test", "Hi", "?")).startswith("held"))
        self.assertTrue(self.pipe(mails.auto_reply(CAROL, "Hi")).startswith("ignored"))
        self.assertTrue(self.pipe(b"garbage without headers").startswith("held"))

    def test_files_can_be_given_instead_of_standard_input(self):
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for n in range(2):
                path = Path(tmp) / f"{n}.eml"
                path.write_bytes(mails.plain(CAROL, f"File {n}", "x"))
                paths.append(str(path))
            output = self.pipe(b"", *paths)
        self.assertEqual(output.count("opened"), 2)

    def test_a_failure_to_store_exits_with_tempfail_so_the_server_retries(self):
        with (
            mock.patch.object(InboundMail.objects, "create", side_effect=OperationalError("gone")),
            self.assertRaises(CommandError) as failed,
        ):
            self.pipe(mails.plain(CAROL, "Retry", "x"))
        self.assertEqual(failed.exception.returncode, 75)

    def test_an_unknown_mailbox_is_an_error(self):
        with self.assertRaisesMessage(CommandError, "No mailbox named 'nope'"):
            self.pipe(mails.plain(CAROL, "x", "x"), "--mailbox", "nope")


@pytest.mark.slow
def test_the_installed_commands_ingest_from_a_pipe_and_serve_lmtp(tmp_path):
    """The real `sustain` executable on a fresh SQLite data directory."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env |= {
        "SUSTAIN_DATA_DIR": str(tmp_path),
        "SUSTAIN_SECRET_KEY": "x" * 50,
        "PYTHONUNBUFFERED": "1",
    }
    sustain = [sys.executable, "-m", "sustain.cli"]

    def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
        return subprocess.run(
            [*sustain, *args], input=stdin, env=env, capture_output=True, timeout=120, check=False
        )

    assert run("migrate", "--noinput").returncode == 0
    stranger = mails.plain("x@stranger.test", "Hello", "Who reads this?")
    piped = run("mail", "ingest", stdin=stranger)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.decode().startswith("held <")

    port = free_port()
    server = subprocess.Popen(
        [*sustain, "mail", "serve", "--lmtp", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        assert b"LMTP" in server.stdout.readline()
        with smtplib.LMTP("127.0.0.1", port) as lmtp:
            assert lmtp.sendmail("x@stranger.test", ["desk@support.test"], stranger) == {}
            other = mails.plain("y@stranger.test", "Again", "Anyone?")
            assert lmtp.sendmail("y@stranger.test", ["desk@support.test"], other) == {}
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode == 0, server.stderr.read() if server.stderr else ""
    again = run("mail", "ingest", stdin=stranger)
    assert again.stdout == piped.stdout, "the same mail is stored once"
    count = run(
        "shell", "-c", "from sustain.mail.models import InboundMail as M; print(M.objects.count())"
    )
    assert count.stdout.split()[-1] == b"2"
