"""Writes bench/data/duplicates.jsonl: a labelled set for duplicate suggestions.

    .venv/bin/python bench/data/make_duplicates.py            # rewrites the file (fixed seed)

Each functional area of a business application (sign-in, exports, invoices, payments, e-mail,
API, mobile sync, search, uploads …) has a few subjects, symptoms and conditions, each with
several wordings a person might use ("sign-in" / "login" / "logging in"; "times out" / "hangs
and then times out" / "timeout"). An issue is one (subject, symptom, condition).

- an *original* is an open bug or ticket describing one issue in one wording;
- its *duplicate* is a later report of the same issue, written by someone else: other wordings
  for one to three parts, the parts in another order, often a customer's framing ("Hi, …
  please help"), sometimes a typo, shouting capitals or extra context;
- a *distractor* is an open bug or ticket about a different issue of the same area (another
  symptom of the same subject, the same symptom of another subject), so it shares much of the
  vocabulary without being the same problem. No distractor has an original's subject and
  symptom together, and no two originals share them, so every label is unambiguous.

Records (one JSON object a line): id, role (original | duplicate | distractor), kind (bug |
ticket; for duplicates the kind the report would be filed as), product, title, description,
and for duplicates `duplicate_of` (the original's id).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).with_name("duplicates.jsonl")
PAIRS = 230
DISTRACTORS = 640

# area: product, subjects, symptoms, conditions; each entry lists interchangeable wordings.
AREAS: dict[str, dict[str, object]] = {
    "sign-in": {
        "product": "Portal",
        "subjects": [
            ["login", "sign-in", "logging in", "log in"],
            ["password reset", "reset password link", "password recovery e-mail"],
            ["two-factor authentication", "2FA code", "MFA one-time code"],
            ["session", "user session", "logged-in session"],
            ["SSO login", "single sign-on", "SAML sign-in"],
        ],
        "symptoms": [
            ["fails", "does not work", "is broken", "stopped working"],
            ["times out", "hangs and times out", "runs into a timeout"],
            ["returns error 500", "gives HTTP 500", "shows internal server error"],
            ["loops back to the login page", "redirect loop", "keeps redirecting"],
            ["expires too early", "expires after a few minutes", "gets logged out randomly"],
            ["rejected as invalid", "says invalid code", "is not accepted"],
            ["is very slow", "takes ages", "is painfully slow"],
            ["shows a blank page", "white screen", "page stays empty"],
        ],
        "conditions": [
            ["in Safari", "on Safari (macOS)", "with the Safari browser"],
            ["for users with an umlaut in the name", "when the user name contains ü or ö"],
            ["after the 4.2 upgrade", "since updating to 4.2", "since release 4.2"],
            ["on the mobile app", "in the iOS app", "from phones"],
            ["behind the corporate proxy", "via our company proxy"],
            ["for new users", "for freshly invited accounts"],
            [""],
        ],
    },
    "export": {
        "product": "Reporting",
        "subjects": [
            ["CSV export", "export to CSV", "exporting to CSV", "CSV download"],
            ["Excel export", "export to Excel", "XLSX export"],
            ["scheduled report", "report schedule", "nightly report job"],
            ["dashboard chart", "dashboard graph", "chart widget on the dashboard"],
            ["monthly sales report", "sales report for the month", "month sales report"],
        ],
        "symptoms": [
            ["times out", "hangs then times out", "gets a gateway timeout"],
            ["fails with error 500", "gives internal server error", "throws HTTP 500"],
            ["has garbled characters", "breaks accented characters", "shows umlauts as ?"],
            ["is missing rows", "drops some lines", "has rows missing"],
            ["shows wrong totals", "sums are incorrect", "totals do not add up"],
            ["is empty", "comes out blank", "contains no data"],
            ["is sent twice", "arrives in duplicate", "is delivered two times"],
            ["uses the wrong date format", "shows dates as MM/DD", "has dates in US format"],
        ],
        "conditions": [
            ["with more than 10,000 rows", "for large exports (10k+ rows)", "for big data sets"],
            ["when filtered by customer", "with a customer filter applied"],
            ["for the German locale", "with locale de_DE", "for users set to German"],
            ["at month end", "during month-end closing", "on the last day of the month"],
            ["since the 4.2 release", "after upgrading to 4.2"],
            ["in Firefox", "using Firefox"],
            [""],
        ],
    },
    "invoice": {
        "product": "Billing",
        "subjects": [
            ["invoice PDF", "PDF invoice", "invoice printout (PDF)"],
            ["credit note", "credit memo", "refund credit note"],
            ["VAT calculation", "tax calculation", "VAT amount"],
            ["invoice numbering", "invoice number sequence", "invoice numbers"],
            ["recurring invoice", "subscription invoice", "monthly recurring bill"],
        ],
        "symptoms": [
            ["is not generated", "never gets created", "is missing"],
            ["shows the wrong amount", "has an incorrect total", "amount is off"],
            ["has rounding errors", "rounds cents wrongly", "is off by one cent"],
            ["layout is broken", "logo overlaps the text", "page layout is messed up"],
            ["is duplicated", "is created twice", "appears two times"],
            ["fails to download", "download gives 404", "cannot be downloaded"],
            ["skips a number", "has a gap in the sequence", "jumps numbers"],
            ["uses the old address", "shows the previous billing address"],
        ],
        "conditions": [
            ["for EU reverse charge customers", "with reverse charge VAT", "for intra-EU B2B"],
            ["in Swiss francs", "for CHF invoices", "when the currency is CHF"],
            ["with more than 50 line items", "for long invoices (50+ lines)"],
            ["after changing the tax rate", "since the VAT rate change"],
            ["for customers in the UK", "for British customers"],
            ["with a discount applied", "when a discount code is used"],
            [""],
        ],
    },
    "payment": {
        "product": "Billing",
        "subjects": [
            ["card payment", "credit card payment", "paying by card", "payment with Visa"],
            ["checkout", "checkout page", "the checkout"],
            ["refund", "refund to card", "money back refund"],
            ["SEPA direct debit", "direct debit payment", "SEPA mandate"],
            ["PayPal payment", "paying with PayPal", "PayPal checkout"],
        ],
        "symptoms": [
            ["is declined", "gets rejected", "is refused"],
            ["charges twice", "double charges the customer", "takes the money two times"],
            ["times out", "hangs at the last step", "spins forever then times out"],
            ["returns 500", "shows an internal server error", "throws a server error"],
            ["is not confirmed", "stays pending", "never shows as paid"],
            ["shows the wrong currency", "uses euros instead of pounds", "has a currency mismatch"],
            ["fails silently", "fails without any message", "gives no error but fails"],
            ["is very slow", "takes over a minute", "is extremely slow"],
        ],
        "conditions": [
            ["with 3-D Secure", "when 3DS verification is required", "with 3D Secure cards"],
            ["on mobile Safari", "on the iPhone browser"],
            ["for amounts over 1,000 EUR", "for large amounts (> 1000 EUR)"],
            ["for customers in the Netherlands", "for Dutch customers"],
            ["after the payment provider update", "since the PSP upgrade"],
            ["during peak hours", "in the evening peak", "when traffic is high"],
            [""],
        ],
    },
    "email": {
        "product": "Portal",
        "subjects": [
            ["notification e-mail", "email notification", "notification mail"],
            ["welcome e-mail", "welcome mail for new users", "signup welcome email"],
            ["ticket reply e-mail", "reply notification", "email sent on ticket reply"],
            ["weekly digest", "weekly summary e-mail", "digest mail"],
            ["invoice e-mail", "email with the invoice", "invoice mail"],
        ],
        "symptoms": [
            ["is not sent", "never arrives", "does not get delivered"],
            ["is sent twice", "arrives in duplicate", "is delivered two times"],
            ["lands in spam", "goes to the junk folder", "is marked as spam"],
            ["has broken links", "contains dead links", "links lead to 404"],
            ["shows raw HTML", "displays HTML tags", "renders as plain HTML code"],
            ["arrives hours late", "is delayed by hours", "comes very late"],
            ["has the wrong language", "is in English instead of German", "ignores the language"],
            [
                "has a garbled subject",
                "subject line is garbled",
                "subject shows strange characters",
            ],
        ],
        "conditions": [
            ["for Outlook users", "in Outlook", "with Microsoft Outlook"],
            ["for Gmail addresses", "to Gmail recipients"],
            ["since the SMTP server change", "after moving to the new mail server"],
            ["when the name has accents", "for names with accented letters"],
            ["for customers with several contacts", "when an organisation has many contacts"],
            ["on weekends", "on Saturdays and Sundays"],
            [""],
        ],
    },
    "api": {
        "product": "API",
        "subjects": [
            ["orders API", "GET /api/orders endpoint", "orders endpoint"],
            ["customer API", "POST /api/customers", "customers endpoint"],
            ["webhook delivery", "outgoing webhooks", "webhook calls"],
            ["API token", "API key authentication", "bearer token"],
            ["pagination of the API", "API pagination", "next-page cursor in the API"],
        ],
        "symptoms": [
            ["returns 500", "gives HTTP 500 internal server error", "responds with status 500"],
            ["times out", "hits the 30 s timeout", "takes too long and times out"],
            ["returns 401 unauthorized", "says unauthorized", "rejects valid credentials"],
            ["returns duplicate items", "lists some records twice", "has duplicates in results"],
            ["ignores the filter", "does not apply filters", "filter parameter has no effect"],
            ["returns invalid JSON", "sends malformed JSON", "JSON cannot be parsed"],
            ["is rate limited too early", "throttles after few calls", "gives 429 too soon"],
            ["is very slow", "responds slowly", "has high latency"],
        ],
        "conditions": [
            ["with more than 1,000 results", "for big result sets", "when many records match"],
            ["with an expired token", "after the token expires", "for expired keys"],
            ["since version 4.2", "after the 4.2 deployment", "since the latest release"],
            ["for unicode customer names", "when names contain emoji or accents"],
            ["with the updated_since parameter", "when using updated_since"],
            ["under load", "during load tests", "with many parallel requests"],
            [""],
        ],
    },
    "sync": {
        "product": "Mobile app",
        "subjects": [
            ["mobile app sync", "sync on the mobile app", "offline synchronisation"],
            ["calendar sync", "calendar synchronization", "Outlook calendar sync"],
            ["contact sync", "contacts synchronisation", "address book sync"],
            ["inventory sync", "warehouse stock sync", "stock level synchronization"],
            ["push notifications", "mobile push messages", "app notifications"],
        ],
        "symptoms": [
            ["fails", "does not work", "keeps failing"],
            ["creates duplicates", "duplicates entries", "makes double records"],
            ["is stuck", "hangs at 99%", "never finishes"],
            ["loses changes", "overwrites local changes", "drops edits"],
            ["crashes the app", "makes the app crash", "app closes during sync"],
            ["drains the battery", "uses a lot of battery", "battery drain"],
            ["shows stale data", "shows old values", "is out of date"],
            ["arrives late", "is delayed", "comes hours late"],
        ],
        "conditions": [
            ["on Android 14", "with Android 14", "on Android phones"],
            ["on iOS 17", "on iPhones with iOS 17", "on the iPhone"],
            ["with a poor connection", "on slow mobile networks", "when offline then online"],
            ["for large accounts", "with many thousand items", "for big data volumes"],
            [
                "after the app update",
                "since the latest app version",
                "since version 3.1 of the app",
            ],
            ["across time zones", "when the device time zone differs"],
            [""],
        ],
    },
    "search": {
        "product": "Portal",
        "subjects": [
            ["search", "full-text search", "the search box", "searching"],
            ["customer search", "search for customers", "customer lookup"],
            ["product search", "search in the catalogue", "catalogue search"],
            ["autocomplete", "search suggestions", "type-ahead suggestions"],
            ["saved filter", "saved search", "stored filter"],
        ],
        "symptoms": [
            ["returns no results", "finds nothing", "gives zero hits"],
            ["is very slow", "takes ten seconds", "is slow"],
            ["returns 500", "crashes with error 500", "gives internal server error"],
            ["shows wrong results", "returns unrelated results", "results are irrelevant"],
            ["ignores accents", "does not match accented words", "fails on diacritics"],
            ["is not saved", "gets lost", "disappears after reload"],
            ["shows deleted items", "lists removed records", "still shows archived entries"],
            ["sorts wrongly", "has the wrong order", "ordering is broken"],
        ],
        "conditions": [
            [
                "with special characters",
                "when the query contains & or /",
                "with symbols in the query",
            ],
            ["for names with umlauts", "with German umlauts", "for accented names"],
            ["with more than three words", "for long queries"],
            ["in the mobile view", "on small screens"],
            ["since the reindex", "after rebuilding the index", "after last night's reindex"],
            ["for agents in other teams", "for users of another team"],
            [""],
        ],
    },
    "upload": {
        "product": "Portal",
        "subjects": [
            ["file upload", "attachment upload", "uploading attachments", "upload of files"],
            ["avatar upload", "profile picture upload", "uploading a profile photo"],
            ["CSV import", "import from CSV", "importing a CSV file"],
            ["document preview", "attachment preview", "file preview"],
            ["bulk import of customers", "customer import", "importing customers from Excel"],
        ],
        "symptoms": [
            ["fails", "does not work", "errors out"],
            ["times out", "runs into a timeout", "hangs and times out"],
            ["returns 413 too large", "says file too large", "rejects the file as too big"],
            ["corrupts the file", "produces a broken file", "file is damaged afterwards"],
            ["shows progress at 0%", "progress bar stays at zero", "is stuck at 0%"],
            ["creates duplicate records", "imports rows twice", "duplicates entries"],
            ["skips rows", "ignores some lines", "drops rows silently"],
            ["rejects valid files", "says invalid format", "refuses correct files"],
        ],
        "conditions": [
            ["for files over 20 MB", "with large files (>20 MB)", "for big attachments"],
            ["for PDF files", "with PDFs", "when the file is a PDF"],
            ["with semicolon separators", "when the CSV uses semicolons"],
            ["in Internet Explorer", "on IE 11", "with Edge in IE mode"],
            ["for file names with spaces", "when the name contains spaces or umlauts"],
            ["since the storage migration", "after the move to S3", "since moving storage"],
            [""],
        ],
    },
    "pdf": {
        "product": "Reporting",
        "subjects": [
            ["PDF report", "report as PDF", "PDF export of the report"],
            ["delivery note PDF", "PDF delivery note", "packing slip PDF"],
            ["contract PDF", "generated contract", "contract document"],
            ["label printing", "shipping labels", "printing labels"],
            ["print preview", "preview before printing", "printing preview"],
        ],
        "symptoms": [
            ["is blank", "comes out empty", "has empty pages"],
            ["cuts off the last column", "truncates the table", "last column is cut off"],
            ["has missing fonts", "shows squares instead of letters", "fonts are missing"],
            ["takes minutes to generate", "is extremely slow to generate", "generation is slow"],
            ["fails with an error", "gives an error", "cannot be generated"],
            ["prints on two pages", "spills onto a second page", "breaks onto an extra page"],
            ["shows the wrong logo", "has the old logo", "uses an outdated logo"],
            ["has wrong page numbers", "page numbering is wrong", "page numbers are off"],
        ],
        "conditions": [
            ["for Chinese characters", "with CJK text", "for Asian characters"],
            ["in landscape mode", "when printed landscape"],
            ["with more than 100 pages", "for very long reports", "for 100+ page documents"],
            ["on the Zebra printer", "with Zebra label printers"],
            ["since the 4.2 update", "after updating to 4.2"],
            ["for A5 paper", "when the paper size is A5"],
            [""],
        ],
    },
    "warehouse": {
        "product": "Warehouse",
        "subjects": [
            ["stock levels", "inventory levels", "stock count"],
            ["barcode scanner", "scanning barcodes", "handheld scanner"],
            ["shipment tracking", "tracking of shipments", "parcel tracking"],
            ["picking list", "pick list", "order picking list"],
            ["goods receipt", "receiving goods", "incoming goods booking"],
        ],
        "symptoms": [
            ["shows negative values", "goes below zero", "becomes negative"],
            ["is not updated", "does not refresh", "stays unchanged"],
            ["reads wrong codes", "scans the wrong item", "misreads barcodes"],
            ["shows no tracking number", "tracking number missing", "has an empty tracking id"],
            ["lists items twice", "has duplicate lines", "contains duplicated items"],
            ["is very slow", "takes ages to load", "loads slowly"],
            ["fails to save", "cannot be saved", "does not save"],
            ["books to the wrong location", "uses the wrong bin", "puts stock in the wrong bin"],
        ],
        "conditions": [
            ["for the Hamburg warehouse", "in Hamburg", "at the Hamburg site"],
            ["with partial deliveries", "when a delivery is split"],
            ["for serial-numbered items", "with serial numbers"],
            ["during stocktaking", "while the inventory count runs"],
            ["for DHL shipments", "with DHL", "for parcels sent by DHL"],
            ["after midnight", "for night shift bookings"],
            [""],
        ],
    },
    "performance": {
        "product": "Ledger",
        "subjects": [
            ["dashboard", "home dashboard", "start page"],
            ["ticket list", "list of tickets", "queue view"],
            ["month-end closing", "period closing", "closing the month"],
            ["general ledger report", "ledger report", "GL report"],
            ["user administration page", "user admin", "users page"],
        ],
        "symptoms": [
            ["is very slow", "takes 30 seconds to load", "loads extremely slowly"],
            ["times out", "gives a gateway timeout (504)", "runs into a timeout"],
            ["crashes with out of memory", "fails with OOM", "runs out of memory"],
            ["returns 500", "shows error 500", "throws internal server error"],
            ["shows a spinner forever", "keeps loading", "never finishes loading"],
            ["locks the database", "causes a deadlock", "produces DB deadlocks"],
            ["shows outdated numbers", "has stale figures", "numbers are not current"],
            ["freezes the browser", "makes the tab unresponsive", "hangs the browser"],
        ],
        "conditions": [
            ["for large customers", "for our biggest tenant", "with many records"],
            ["since the database migration", "after moving to PostgreSQL 16"],
            ["on Monday mornings", "every Monday at 9", "at the start of the week"],
            [
                "with more than 50 users online",
                "under concurrent use",
                "when many users are logged in",
            ],
            ["in Chrome", "using Google Chrome", "with Chrome 120"],
            ["after the 4.2 update", "since upgrading to 4.2"],
            [""],
        ],
    },
}

# A reporter's framing of the same text (ticket wording), and what engineers add (bug wording).
TICKET_FRAMES = [
    "{t}",
    "{t}",
    "{T}",
    "Urgent: {t}",
    "Problem: {t}",
    "{t} - please help",
    "{t} again",
    "Help! {t}",
    "[Acme] {t}",
    "Re: {t}",
    "Our {t}",
    "{t}!!",
    "Customer reports {t}",
    "Since yesterday {t}",
]
BUG_FRAMES = ["{T}", "{T}", "[{product}] {T}", "{product}: {T}", "{T} (regression)", "{T} in prod"]
ORDERS = [
    ("{s} {y} {c}", 5),
    ("{y}: {s} {c}", 1),
    ("{s} {c} {y}", 1),
    ("{c}, {s} {y}", 2),
    ("{s} - {y} {c}", 1),
]
STEPS = [
    "Open the page, fill in the form and submit.",
    "Log in as a normal user and repeat the action.",
    "Happens every time for the affected customers.",
    "Reproducible on staging as well as production.",
    "Happens intermittently, about one in five tries.",
]
IMPACT = [
    "About 20 users are affected.",
    "This blocks our finance team.",
    "No workaround found so far.",
    "Workaround: retry a few times.",
    "Started this morning.",
    "Several customers have called about it.",
    "Logs show an exception in the worker.",
]


def typo(text: str, rng: random.Random) -> str:
    """One realistic slip in one longer word: swapped, dropped or doubled letter."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w, j = words[i], rng.randrange(1, len(words[i]) - 2)
    slip = rng.randrange(3)
    if slip == 0:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    elif slip == 1:
        w = w[:j] + w[j + 1 :]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


def compose(s: str, y: str, c: str, rng: random.Random) -> str:
    order = rng.choices([o for o, _ in ORDERS], weights=[w for _, w in ORDERS])[0]
    if not c:
        order = "{s} {y}"
    text = order.format(s=s, y=y, c=c).strip()
    return text[0].upper() + text[1:]


def wording(options: list[str], rng: random.Random, avoid: str | None = None) -> str:
    choices = [o for o in options if o != avoid] or options
    return rng.choice(choices)


def frame(title: str, kind: str, product: str, rng: random.Random) -> str:
    template = rng.choice(TICKET_FRAMES if kind == "ticket" else BUG_FRAMES)
    lowered = title[0].lower() + title[1:]
    return template.format(t=lowered, T=title, product=product)


def describe(s: str, y: str, c: str, kind: str, rng: random.Random) -> str:
    where = f" {c}" if c else ""
    if kind == "bug":
        return (
            f"Steps: {rng.choice(STEPS)}\nExpected: {s} works{where}.\n"
            f"Actual: {s} {y}{where}. {rng.choice(IMPACT)}"
        )
    return f"Hello, {s} {y}{where}. {rng.choice(IMPACT)} Thanks."


def reworded(
    parts: tuple[str, str, str], words: tuple[list[str], list[str], list[str]], rng: random.Random
) -> tuple[str, str, str]:
    """The duplicate's parts: other words for one to three of them, never all the same."""
    s, y, c = parts
    subjects, symptoms, conditions = words
    while True:
        changed = rng.sample(["s", "y", "c"], k=rng.choice([1, 2, 2, 3]))
        s2 = wording(subjects, rng, s) if "s" in changed else s
        y2 = wording(symptoms, rng, y) if "y" in changed else y
        c2 = wording(conditions, rng, c) if "c" in changed else c
        if rng.random() < 0.15 and c2:
            c2 = ""  # the second reporter leaves the condition out
        if (s2, y2, c2) != (s, y, c):
            return s2, y2, c2


def noisy(title: str, rng: random.Random) -> str:
    """A typo, or the title in lower or upper case, as some reporters type it."""
    roll = rng.random()
    if roll < 0.3:
        return typo(title, rng)
    if roll < 0.4:
        return title.lower()
    if roll < 0.45:
        return title.upper()
    return title


def main() -> None:
    rng = random.Random(20261127)
    issues = [
        (area, si, yi, ci)
        for area, spec in AREAS.items()
        for si in range(len(spec["subjects"]))  # type: ignore[arg-type]
        for yi in range(len(spec["symptoms"]))  # type: ignore[arg-type]
        for ci in range(len(spec["conditions"]))  # type: ignore[arg-type]
    ]
    rng.shuffle(issues)
    taken: set[tuple[str, int, int]] = set()
    originals: list[tuple[str, int, int, int]] = []
    for issue in issues:
        if (issue[0], issue[1], issue[2]) not in taken and len(originals) < PAIRS:
            taken.add((issue[0], issue[1], issue[2]))
            originals.append(issue)
    distractors = [i for i in issues if (i[0], i[1], i[2]) not in taken][:DISTRACTORS]
    records: list[dict[str, str]] = []

    def text(area: str, si: int, yi: int, ci: int) -> tuple[list[str], list[str], list[str]]:
        spec = AREAS[area]
        return spec["subjects"][si], spec["symptoms"][yi], spec["conditions"][ci]  # type: ignore[index]

    for n, (area, si, yi, ci) in enumerate(originals, 1):
        product = str(AREAS[area]["product"])
        subjects, symptoms, conditions = text(area, si, yi, ci)
        s, y, c = rng.choice(subjects), rng.choice(symptoms), rng.choice(conditions)
        kind = rng.choice(["bug", "ticket"])
        title = frame(compose(s, y, c, rng), kind, product, rng)
        records.append(
            {
                "id": f"o{n}",
                "role": "original",
                "kind": kind,
                "product": product,
                "title": title,
                "description": describe(s, y, c, kind, rng),
            }
        )
        s2, y2, c2 = reworded((s, y, c), (subjects, symptoms, conditions), rng)
        dup_kind = rng.choice(["bug", "ticket", "ticket"])
        dup = noisy(frame(compose(s2, y2, c2, rng), dup_kind, product, rng), rng)
        records.append(
            {
                "id": f"d{n}",
                "role": "duplicate",
                "kind": dup_kind,
                "product": product,
                "title": dup,
                "description": describe(s2, y2, c2, dup_kind, rng),
                "duplicate_of": f"o{n}",
            }
        )
    for n, (area, si, yi, ci) in enumerate(distractors, 1):
        product = str(AREAS[area]["product"])
        subjects, symptoms, conditions = text(area, si, yi, ci)
        s, y, c = rng.choice(subjects), rng.choice(symptoms), rng.choice(conditions)
        kind = rng.choice(["bug", "ticket"])
        records.append(
            {
                "id": f"x{n}",
                "role": "distractor",
                "kind": kind,
                "product": product,
                "title": frame(compose(s, y, c, rng), kind, product, rng),
                "description": describe(s, y, c, kind, rng),
            }
        )
    with OUT.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"{OUT}: {len(originals)} pairs, {len(distractors)} distractors")


if __name__ == "__main__":
    main()
