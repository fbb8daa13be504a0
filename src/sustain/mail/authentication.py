"""Who a received mail is from: authentication of its From domain, or our own reply token.

`authenticate` reads the raw mail and returns a `Verdict`; ingestion then decides (actions.py).
In order:

1. A reply token (tokens.py) in a recipient address: the mail is the reply of the customer the
   notification went to, on that ticket. A staff user's token never authenticates anyone.
2. `Authentication-Results` added by our own receiving server, recognised by its authserv-id
   (SUSTAIN_MAIL_TRUSTED_AUTHSERV_ID; anybody can write such a header, so any other is
   ignored): `dmarc=pass` for the From domain passes, as do an aligned `dkim=pass` or
   `spf=pass`; `dmarc=fail` or a failing `dkim` fails.
3. Otherwise DKIM signatures verified here (dkimpy): one whose `d=` is aligned with the From
   domain passes; one that does not verify fails; a DNS failure is a temporary error (never a
   pass).
4. Nothing passed and nothing failed: the From domain's DMARC policy decides. `p=reject` or
   `p=quarantine` means the domain signs all its mail, so an unsigned one is forged (fail);
   `p=none` or no policy leaves the mail unauthenticated (`none`), for the setting to decide.

Alignment is DMARC's relaxed one: the same organizational domain (the Public Suffix List, as
shipped by `publicsuffixlist`), so `mail.acme.test` signs for `acme.test`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from functools import lru_cache
from typing import Any

import authres
import dkim
import dns.exception
import dns.resolver
from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string
from publicsuffixlist import PublicSuffixList

from sustain.mail import tokens

log = logging.getLogger(__name__)

PASS, FAIL, TEMPERROR, NONE = "pass", "fail", "temperror", "none"
AUTHRES, DKIM, TOKEN, UNCHECKED = "authres", "dkim", "token", "none"
MAX_SIGNATURES = 5  # DKIM signatures verified per mail (each costs a DNS lookup)
DNS_TIMEOUT = 5.0
CACHE_SECONDS = 300  # how long a TXT answer (DKIM key, DMARC policy) is reused

DnsFunc = Callable[..., bytes | None]


class TemporaryDnsError(Exception):
    """The DNS did not answer (timeout, SERVFAIL): neither a pass nor a fail."""


@dataclass(frozen=True)
class Verdict:
    result: str  # pass, fail, temperror, none
    method: str  # authres, dkim, token, none
    reason: str
    domain: str = ""  # the aligned domain that passed
    user: Any = None  # token: the recipient whose reply this is
    ticket: Any = None  # token: the ticket it answers

    @property
    def authenticated(self) -> bool:
        return self.result == PASS


# --- DNS -------------------------------------------------------------------------------------
def resolve_txt(name: str, timeout: float = DNS_TIMEOUT) -> bytes | None:
    """The first TXT record of `name` (its strings joined), None when there is none."""
    try:
        answer = dns.resolver.resolve(
            name.rstrip(".") + ".", "TXT", lifetime=timeout, raise_on_no_answer=False
        )
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    except (dns.exception.DNSException, OSError) as exc:
        raise TemporaryDnsError(f"{type(exc).__name__}") from None
    if answer.rrset is None:
        return None
    for record in answer.rrset:
        return b"".join(record.strings)
    return None


def resolver() -> DnsFunc:
    """SUSTAIN_MAIL_DNS_RESOLVER, or dnspython."""
    path = settings.MAIL_DNS_RESOLVER
    return import_string(path) if path else resolve_txt


class _Lookups:
    """The DNS function handed to dkimpy, remembering which lookups failed: dkimpy turns a
    failed lookup into a plain False, which must not read as a broken signature.

    Answers (an absent record too) are kept in the cache for CACHE_SECONDS, so a burst of
    mail from one domain asks the DNS once; failures are not kept."""

    def __init__(self, dnsfunc: DnsFunc, *, cached: bool = True):
        self.dnsfunc = dnsfunc
        self.cached = cached
        self.failed: list[str] = []

    def txt(self, name: str) -> bytes | None:
        name = name.rstrip(".").lower()
        key = f"sustain:mail:txt:{hashlib.sha256(name.encode()).hexdigest()}"
        if self.cached and (kept := cache.get(key)) is not None:
            return kept or None  # b"" stands for "no record"
        try:
            answer = self.dnsfunc(name, timeout=DNS_TIMEOUT)
        except Exception as exc:
            self.failed.append(f"{name} ({type(exc).__name__})")
            raise TemporaryDnsError(self.failed[-1]) from None
        if self.cached:
            cache.set(key, answer or b"", CACHE_SECONDS)
        return answer

    def __call__(self, name: bytes | str, timeout: float = DNS_TIMEOUT) -> bytes | None:
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        try:
            return self.txt(text)
        except TemporaryDnsError as exc:
            raise dkim.DnsTimeoutError(str(exc)) from None


# --- domains ---------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    return PublicSuffixList()  # the list shipped in the package: no download


def organizational(domain: str) -> str:
    domain = domain.strip().rstrip(".").lower()
    return _psl().privatesuffix(domain) or domain


def aligned(domain: str, from_domain: str) -> bool:
    """DMARC's relaxed alignment: the same organizational domain."""
    return bool(domain) and organizational(domain) == organizational(from_domain)


def _domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().rstrip(".>").lower() if "@" in address else ""


# --- the header block ------------------------------------------------------------------------
def _head(raw: bytes) -> Message:
    """The headers only, without reading the body (which may be large)."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    head = raw[: min(ends)] if ends else raw
    return BytesHeaderParser(policy=policy.compat32).parsebytes(head + b"\r\n\r\n")


def _values(head: Message, name: str) -> list[str]:
    return [re.sub(r"\r?\n[ \t]+", " ", str(v)) for v in head.get_all(name) or []]


AUTHSERV_ID = re.compile(r"^\s*([^;\s]+)")


NOT_PASSING = frozenset({"fail", "permerror", "temperror"})


def _trusted_results(head: Message) -> tuple[str, list[Any]] | None:
    """The results our own receiving server recorded (authserv-id, results), or None when
    none of the Authentication-Results headers is from a trusted authserv-id.

    A pass counts only from the topmost trusted header: a server prepends its own, so one
    further down was in the mail when it arrived, and a sender can write any authserv-id (a
    forged `dmarc=pass` below our server's `dmarc=none` must not make a pass). A failure counts
    from any trusted header (the worst it can do is hold the mail of whoever forged it)."""
    trusted = settings.MAIL_TRUSTED_AUTHSERV_IDS
    if not trusted:
        return None
    found: list[Any] = []
    server = ""
    for value in _values(head, "Authentication-Results"):
        match = AUTHSERV_ID.match(value)
        if not match or match[1].lower() not in trusted:
            continue  # written by someone else: the sender can add any header
        try:
            results = authres.AuthenticationResultsHeader.parse_value(value).results
        except Exception:  # authres raises its own errors, and others on odd input
            log.warning("unreadable Authentication-Results from %s: %.200s", match[1], value)
            results = []
        if not server:
            server = match[1].lower()
            found.extend(results)
        else:
            found.extend(r for r in results if (r.result or "").lower() in NOT_PASSING)
    return (server, found) if server else None


def _property(result: Any, kind: str, name: str) -> str:
    for prop in getattr(result, "properties", []) or []:
        if (prop.type or "").lower() == kind and (prop.name or "").lower() == name:
            return str(prop.value or "").strip().lower()
    return ""


def _from_authres(server: str, results: list[Any], from_domain: str) -> Verdict | None:
    """The verdict of our receiving server's results, or None if they decide nothing."""

    def of(method: str) -> list[Any]:
        return [r for r in results if (r.method or "").lower() == method]

    at = f"at {server}"
    dmarc = {
        (r.result or "").lower()
        for r in of("dmarc")
        # Only a result about the From we read (header.from, when given, must name it).
        if (_property(r, "header", "from") or from_domain) == from_domain
    }
    for outcome in ("fail", "permerror", "temperror", "pass"):  # a failure wins
        if outcome not in dmarc:
            continue
        reason = f"dmarc={outcome} for {from_domain} {at}"
        if outcome == "pass":
            return Verdict(PASS, AUTHRES, reason, from_domain)
        return Verdict(TEMPERROR if outcome == "temperror" else FAIL, AUTHRES, reason)
    for result in of("dkim"):
        signer = _property(result, "header", "d") or _domain_of(_property(result, "header", "i"))
        if (result.result or "").lower() == "pass" and aligned(signer, from_domain):
            return Verdict(PASS, AUTHRES, f"dkim=pass header.d={signer} {at}", signer)
    for result in of("spf"):
        sender = _domain_of(_property(result, "smtp", "mailfrom"))
        if (result.result or "").lower() == "pass" and aligned(sender, from_domain):
            return Verdict(PASS, AUTHRES, f"spf=pass smtp.mailfrom={sender} {at}", sender)
    outcomes = {(r.result or "").lower() for r in of("dkim")}
    if outcomes & {"fail", "permerror"}:
        return Verdict(FAIL, AUTHRES, f"dkim=fail {at}, and no aligned pass")
    if "temperror" in outcomes:
        return Verdict(TEMPERROR, AUTHRES, f"dkim=temperror {at}")
    return None


# --- DKIM and DMARC of our own ---------------------------------------------------------------
# dkimpy's relaxed body canonicalization (re.sub over every run of blanks) costs about 50 MB
# per MiB of prose: past this many blanks in the body a mail is not DKIM-checked, so ingesting
# one stays in bounded memory (it is then judged as a mail without a signature).
DKIM_MAX_BLANKS = 500_000
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def _signer(raw: bytes) -> dkim.DKIM:
    """dkimpy's verifier for `raw`, without its own parse of the whole mail: that splits every
    line into a list (about 400 MB for a 40 MiB mail of short lines). It is given the header
    block alone, then the body in the form its parse makes (each line end CRLF), in one step."""
    if raw.startswith((b"\n", b"\r\n")):
        head_end, body_start = 0, raw.index(b"\n") + 1
    elif (blank := _BLANK_LINE.search(raw)) is None:
        head_end = body_start = len(raw)
    else:
        head_end = raw.index(b"\n", blank.start()) + 1
        body_start = blank.end()
    signer = dkim.DKIM(raw[:head_end], timeout=int(DNS_TIMEOUT))
    body = raw[body_start:]
    if body.count(b"\n") != body.count(b"\r\n"):  # bytes.replace: no list of pieces as re.sub
        body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    signer.body = body
    return signer


def _from_dkim(raw: bytes, head: Message, from_domain: str, lookups: _Lookups) -> Verdict | None:
    """Each DKIM signature verified; None when the mail has none."""
    count = len(head.get_all("DKIM-Signature") or [])
    if not count:
        return None
    if raw.count(b" ") + raw.count(b"\t") > DKIM_MAX_BLANKS:
        return Verdict(
            NONE, DKIM, "not DKIM-checked: the mail has too much text to check in bounded memory"
        )
    try:
        signer = _signer(raw)
    except (dkim.DKIMException, IndexError):  # a header block dkimpy cannot read
        return Verdict(FAIL, DKIM, "DKIM signature does not verify: the header is malformed")
    unaligned: list[str] = []
    failures: list[str] = []
    temporary: list[str] = []
    for index in range(min(count, MAX_SIGNATURES)):
        tried = len(lookups.failed)
        ok, why, domain = _verify_one(signer, index, lookups)
        if ok and (b"l" in signer.signature_fields or b"from" not in signer.include_headers):
            # l= signs only the first bytes of the body (text may be appended), and a
            # signature must cover From to say anything about it.
            unaligned.append(f"{domain} (a signature over part of the mail only)")
            continue
        if ok and aligned(domain, from_domain):
            return Verdict(PASS, DKIM, f"DKIM signature of {domain} verifies", domain)
        if ok:
            unaligned.append(domain)
        elif len(lookups.failed) > tried:
            temporary.append(f"d={domain}: DNS lookup of {lookups.failed[-1]} failed")
        else:
            failures.append(
                f"d={domain}: "
                + (why or "the signature does not verify (changed after signing, or wrong key)")
            )
    return _no_pass(temporary, failures, unaligned, from_domain)


def _verify_one(signer: Any, index: int, lookups: _Lookups) -> tuple[bool, str, str]:
    """Whether signature `index` verifies, why not, and its domain (lower case)."""
    signer.domain, why = None, ""
    signer.signature_fields, signer.include_headers = {}, ()
    try:
        ok = bool(signer.verify(idx=index, dnsfunc=lookups))
    except dkim.DKIMException as exc:
        ok, why = False, str(exc)[:200]
    except Exception as exc:  # dkimpy has corner cases of its own on odd input
        ok, why = False, f"{type(exc).__name__}"
    return ok, why, (signer.domain or b"?").decode("ascii", "replace").lower()


def _no_pass(
    temporary: list[str], failures: list[str], unaligned: list[str], from_domain: str
) -> Verdict:
    """The verdict when no signature of the From domain verified."""
    if temporary:
        return Verdict(TEMPERROR, DKIM, "DKIM could not be checked: " + "; ".join(temporary))
    if failures:
        return Verdict(FAIL, DKIM, "DKIM signature does not verify: " + "; ".join(failures))
    return Verdict(
        NONE, DKIM, f"signed only by {', '.join(unaligned)}, not by the From domain {from_domain}"
    )


def _dmarc_tags(record: bytes) -> dict[str, str]:
    text = record.decode("utf-8", "replace")
    tags = {}
    for part in text.split(";"):
        key, _, value = part.partition("=")
        tags[key.strip().lower()] = value.strip().lower()
    return tags


def dmarc_policy(from_domain: str, lookups: _Lookups) -> str | None:
    """The From domain's DMARC policy (none, quarantine, reject), or None when it publishes
    none: `_dmarc.<domain>`, then the organizational domain's (its `sp=` for subdomains)."""
    org = organizational(from_domain)
    for name in dict.fromkeys([from_domain, org]):
        record = lookups.txt(f"_dmarc.{name}")
        if record is None or not record.strip().lower().startswith(b"v=dmarc1"):
            continue
        tags = _dmarc_tags(record)
        chosen = tags.get("sp") if name != from_domain and tags.get("sp") else tags.get("p")
        return chosen if chosen in {"none", "quarantine", "reject"} else "none"
    return None


# --- the reply token -------------------------------------------------------------------------
def _token(head: Message, parsed: Any, recipients: Iterable[str]) -> tuple[Verdict | None, str]:
    """A verdict for a valid reply token of a customer, and a note about a token that did
    not count."""
    from sustain.accounts.models import User
    from sustain.core import tenancy
    from sustain.desk.models import Ticket

    addresses = [
        *recipients,
        *_values(head, "Delivered-To"),
        *_values(head, "X-Original-To"),
        *parsed.to,
        *parsed.cc,
    ]
    found, tampered = tokens.read(addresses)
    if found is None:
        return None, ("a reply token in the recipient address does not verify" if tampered else "")
    user = User.objects.filter(pk=found[0]).select_related("organization").first()
    ticket = Ticket.objects.filter(pk=found[1]).select_related("organization").first()
    if user is None or ticket is None or not user.is_active:
        return None, "a reply token of a user or ticket that no longer exists"
    if user.is_agent:
        return None, "a reply token of staff never authenticates an agent"
    if not tenancy.visible(Ticket.objects.filter(pk=ticket.pk), user).exists():
        return None, f"a reply token of {user.email}, who may no longer see {ticket.key}"
    reason = f"reply token of {user.email} for {ticket.key}"
    if parsed.sender != user.email:
        reason += f" (sent from {parsed.sender})"
    return Verdict(PASS, TOKEN, reason, user=user, ticket=ticket), ""


# --- the verdict -----------------------------------------------------------------------------
def _with(verdict: Verdict, note: str) -> Verdict:
    if not note:
        return verdict
    return Verdict(
        verdict.result,
        verdict.method,
        f"{verdict.reason}; {note}",
        verdict.domain,
        verdict.user,
        verdict.ticket,
    )


def authenticate(
    raw: bytes, parsed: Any, *, recipients: Iterable[str] = (), dnsfunc: DnsFunc | None = None
) -> Verdict:
    """Who `raw` (with `parsed`, its parsed form) is from; see the module's docstring.
    `recipients`: the envelope's (RCPT TO), when the door knows them."""
    head = _head(raw)
    verdict, note = _token(head, parsed, recipients)
    if verdict is not None:
        return verdict
    froms = _values(head, "From")
    if len(froms) > 1:  # RFC 5322 allows one; a second one on top of a signed mail is a forgery
        return _with(Verdict(FAIL, UNCHECKED, "several From headers in one mail"), note)
    from_domains = {_domain_of(address) for _, address in getaddresses(froms) if address}
    from_domains.discard("")
    if len(from_domains) > 1:
        return _with(Verdict(FAIL, UNCHECKED, "several From domains in one mail"), note)
    from_domain = from_domains.pop() if from_domains else _domain_of(parsed.sender)
    if from_domain != _domain_of(parsed.sender):
        # The desk takes the sender the parser read; it must be the From checked here.
        return _with(Verdict(FAIL, UNCHECKED, "the From header cannot be read consistently"), note)
    lookups = _Lookups(dnsfunc or resolver(), cached=dnsfunc is None)

    trusted = _trusted_results(head)
    if trusted is not None:
        found = _from_authres(*trusted, from_domain)
        if found is not None:
            return _with(found, note)
        context = f"{trusted[0]} found no aligned pass"
    elif settings.MAIL_TRUSTED_AUTHSERV_IDS:
        context = "no Authentication-Results from the receiving server"
    else:
        context = "no trusted receiving server (SUSTAIN_MAIL_TRUSTED_AUTHSERV_ID)"
    method = AUTHRES if trusted is not None else DKIM
    own = _from_dkim(raw, head, from_domain, lookups)
    if own is not None and own.result != NONE:
        return _with(own, note)
    context = f"{own.reason if own else 'no DKIM signature'}, {context}"
    try:
        policy_ = dmarc_policy(from_domain, lookups)
    except TemporaryDnsError as exc:
        return _with(
            Verdict(TEMPERROR, method, f"DMARC of {from_domain}: DNS failed ({exc})"), note
        )
    if policy_ in {"quarantine", "reject"}:
        reason = f"{from_domain} publishes DMARC p={policy_}, and nothing authenticates the mail"
        return _with(Verdict(FAIL, method, f"{reason} ({context})"), note)
    published = "DMARC p=none" if policy_ == "none" else "no DMARC policy"
    reason = f"no authentication information: {context}; {from_domain} publishes {published}"
    return _with(Verdict(NONE, UNCHECKED, reason), note)
