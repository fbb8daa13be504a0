"""The bugs of the security suite's world: for each customer, a bug made from its ticket (seen on
its item, with an internal note, a public comment and an internal attachment) and a second bug
linked to nothing. Bugs are product-wide: every agent sees them (an agent who serves one customer
too), customers only those of their own tickets; what ties a bug to a customer (the ticket, the
environment) stays with those who serve that customer. Path parameters find them by title."""

from __future__ import annotations

from typing import Any

from sustain.bugs.models import Bug, BugAttachment

# Words that name no organization: a bug's title is shown to every agent.
WORDS = {"acme": "Quartz", "globex": "Zircon"}


def title(slug: str) -> str:
    return f"{WORDS[slug]} rounding defect 7731"


def bug(slug: str) -> Bug:
    return Bug.objects.get(title=title(slug))


def second(slug: str) -> Bug:
    return Bug.objects.get(title=f"{WORDS[slug]} second defect 7731")


def attachment(slug: str) -> BugAttachment:
    return BugAttachment.objects.get(filename=f"{WORDS[slug].lower()}-trace-7731.txt")


def owner(slug: str) -> Any:
    from tests.security.world import Owner

    return Owner("bug", slug=slug)


def build_bugs(base: Any, sides: dict[str, Any], markers: list) -> None:
    from sustain.bugs import actions
    from tests.security.world import STAFF, text_marker

    alice = base.alice
    for slug, side in sides.items():
        word = WORDS[slug]
        made = actions.create_bug_from_ticket(
            alice,
            side.ticket,
            product=base.product,
            title=title(slug),
            description=f"{word.lower()}-bug-description-7731",
        )
        actions.add_comment(alice, made, f"{word.lower()}-bug-note-7731")
        actions.add_comment(alice, made, f"{word.lower()}-bug-public-7731", is_public=True)
        actions.add_attachment(
            alice, made, f"{word.lower()}-trace-7731.txt", f"{word.lower()}-trace-7731".encode()
        )
        actions.create_bug(alice, title=f"{word} second defect 7731", product=base.product)
        markers += [
            text_marker(f"{slug} bug title", title(slug), owner(slug)),
            text_marker(
                f"{slug} bug public comment", f"{word.lower()}-bug-public-7731", owner(slug)
            ),
            text_marker(f"{slug} bug note", f"{word.lower()}-bug-note-7731", STAFF),
            text_marker(f"{slug} bug description", f"{word.lower()}-bug-description-7731", STAFF),
            text_marker(f"{slug} bug attachment", f"{word.lower()}-trace-7731", STAFF),
            text_marker(f"{slug} second bug", f"{word} second defect 7731", STAFF),
        ]
