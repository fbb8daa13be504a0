"""Worker jobs of inbound e-mail: every minute, poll the IMAP mailboxes."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from sustain.mail import imap


@db_periodic_task(crontab(minute="*"))
def fetch_mailboxes() -> int:
    """Each mailbox is claimed for its poll, so two workers never fetch it twice."""
    return sum(result.fetched for result in imap.fetch_all())
