"""Real peers for the mail tests: our SMTP/LMTP receiver on a free port, and a Dovecot.

The receiver runs in its own thread, as `sustain mail serve` does; its ingestion thread is
given the test's database connection (as Django's LiveServerTestCase does for its server), so
that it sees the test's users and the test sees what it stored, all rolled back afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections

from sustain.mail import receive


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_receiver(*, lmtp: bool = False) -> Iterator[int]:
    """Our receiver on 127.0.0.1 and a free port, sharing the test's database connection."""
    shared = connections["default"]

    def deliver(raw: bytes, recipients: list[str]) -> str:
        connections["default"] = shared  # this thread uses the test's connection
        return receive.deliver(raw, recipients)

    port = free_port()
    server = receive.receiver("127.0.0.1", port, lmtp=lmtp, deliver_fn=deliver)
    shared.inc_thread_sharing()
    server.start()
    try:
        yield port
    finally:
        server.stop()
        shared.dec_thread_sharing()


# --- Dovecot ---------------------------------------------------------------------------------
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "dovecot-test-password"


def need_dovecot() -> None:
    """Dovecot is a real peer of the suite: CI installs it (.ci/run); a missing one fails there."""
    if Path(DOVECOT).exists():
        return
    message = "dovecot is not installed: apt-get install -y dovecot-imapd (CI installs it)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


class Dovecot:
    """A Dovecot of our own: its config, directories and ports (IMAP with STARTTLS, and IMAP
    over TLS with a certificate made for it: `localhost`, `mail.sustain.test`, 127.0.0.1); any
    user, one password."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sustain-dovecot-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.tls_port = free_port()
        self.conf = self.dir / "dovecot.conf"
        self.cert = self.dir / "cert.pem"
        key = self.dir / "key.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,DNS:mail.sustain.test,IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(self.cert),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        mail = self.dir / "mail"
        mail.mkdir()
        for sub in ("base", "state"):
            (self.dir / sub).mkdir()
        shutil.chown(mail, "dovenull", "dovenull")
        self.conf.write_text(
            f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.dir}/base
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
info_log_path = {self.dir}/dovecot.log
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 100
mail_location = maildir:{mail}/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid=dovenull gid=dovenull home={mail}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  mailbox Processed {{
    auto = create
  }}
}}
"""
        )

    def start(self) -> None:
        # It daemonises: no pipe of ours may stay open in it.
        subprocess.run(
            [DOVECOT, "-c", str(self.conf)],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not start: {self.log()}")

    def stop(self) -> None:
        subprocess.run(
            [DOVECOT, "-c", str(self.conf), "stop"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"
