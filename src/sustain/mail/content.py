"""What an e-mail becomes on a ticket: its title, its text (cut to the desk's limit, the cut
noted), the attachments the desk accepts, the customer made for an unknown sender, and whether
its sender may join a ticket. Shared by ingestion (`actions`) and the review of held mail
(`review`)."""

from __future__ import annotations

import mimetypes
import re

from sustain.accounts import actions as accounts
from sustain.accounts.models import Organization, Role, User
from sustain.core import attachments as files
from sustain.core import tenancy
from sustain.core.errors import Invalid
from sustain.desk import actions as desk
from sustain.desk.models import TEXT_MAX, Ticket
from sustain.mail import parse
from sustain.mail.parse import ParsedMail

SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|antw|wg|fw|fwd|tr|rv|enc|odp|res)\s*(?:\[\d+\])?\s*:\s*)+", re.I
)
FORWARD = re.compile(r"^\s*(?:fw|fwd|wg|tr|rv|enc)\s*:", re.I)
# What a mail adds as a description or comment: the API's limit, less room for the line a
# caller puts above it ("Follow-up to …", "E-mail from <name and address>:" at most ~600).
BODY_MAX = TEXT_MAX - 1000
MAX_NOTES = 20
CUT_NOTE = (
    f"The e-mail was longer than {BODY_MAX:,} characters and was cut here. "
    "The whole e-mail is kept as it was received: agents find it under Mail."
)


def may_join(ticket: Ticket, sender: User | None, routed: Organization | None) -> bool:
    """An agent who serves the ticket's customer, or a customer of it who may see the ticket."""
    if sender is not None:
        return tenancy.visible(Ticket.objects.filter(pk=ticket.pk), sender).exists()
    return (
        routed is not None
        and routed.pk == ticket.organization_id
        and routed.customers_see_all_tickets
    )


def check_attachments(parsed: ParsedMail) -> tuple[list[files.CheckedFile], list[str]]:
    """The attachments the desk accepts, and a note for each it refuses."""
    accepted, notes = [], []
    for attachment in parsed.attachments:
        name = attachment.filename
        if "." not in name:
            extension = mimetypes.guess_extension(attachment.content_type) or ""
            name = f"{name}{extension}"
        if attachment.refused:  # too large: the parser did not even read it
            notes.append(f"Not attached: {files.clean_filename(name)} is {attachment.refused}.")
            continue
        try:
            accepted.append(files.check(name, attachment.content))
        except Invalid as exc:
            notes.append(f"Not attached: {exc.message}")
    return accepted, notes


def title_of(subject: str) -> str:
    return clean_subject(subject)[: desk.TITLE_MAX] or "(no subject)"


def clean_subject(subject: str) -> str:
    """A subject without reply prefixes and ticket keys: "Re: [INC-4] Printer" → "Printer"."""
    title = parse.KEY_IN_SUBJECT.sub("", subject or "")
    return re.sub(r"\s+", " ", SUBJECT_PREFIX.sub("", title)).strip()


def body_of(parsed: ParsedMail, notes: list[str], *, new: bool) -> str:
    """A reply shows its newest part; a new mail keeps a forwarded message whole. Cut to the
    desk's limit (with room for the line callers add above it), the cut noted where it is."""
    text = parsed.text if new and FORWARD.match(parsed.subject) else parsed.reply
    text = (text or "").strip()
    if not text:
        text = "(The e-mail had no text.)" if parsed.attachments else "(The e-mail was empty.)"
    if len(notes) > MAX_NOTES:
        notes = [*notes[:MAX_NOTES], f"… and {len(notes) - MAX_NOTES} more not attached."]
    tail = "".join(f"\n_{note}_" for note in notes)
    room = BODY_MAX - len(tail) - len(CUT_NOTE) - 4
    if parsed.cut or len(text) > room:
        text = text[:room].rstrip() + "\n\n_" + CUT_NOTE + "_"
    return text + ("\n" + tail if tail else "")


def new_customer(parsed: ParsedMail, organization: Organization) -> User:
    """A customer for a sender nobody knew; no usable password until they reset one."""
    name = (parsed.sender_name or parsed.sender.split("@")[0]).strip()[:200] or parsed.sender
    return accounts.create_user(
        None, email=parsed.sender, name=name, organization=organization, role=Role.CUSTOMER
    )
