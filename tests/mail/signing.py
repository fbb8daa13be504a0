"""DKIM for the tests: one RSA key made per test process, mails signed with it (dkimpy), and
its public key published in the offline DNS (offline_dns.py) for the domains a test names."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.mail import offline_dns

SELECTOR = "test"
HEADERS = [b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"in-reply-to"]


@cache
def _key() -> tuple[bytes, bytes]:
    """(private key PEM, public key as a DKIM record's p=)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(public)


def sign(raw: bytes, domain: str, *, selector: str = SELECTOR, length: bool = False) -> bytes:
    """`raw` with a DKIM-Signature of `domain` on top (`length`: with l=, the body's length)."""
    signature = dkim.sign(
        raw, selector.encode(), domain.encode(), _key()[0], include_headers=HEADERS, length=length
    )
    return signature + raw


def key_record(domain: str, *, selector: str = SELECTOR) -> dict[str, bytes]:
    return {f"{selector}._domainkey.{domain}": b"v=DKIM1; k=rsa; p=" + _key()[1]}


@contextmanager
def published(*domains: str, **extra: bytes | Exception) -> Iterator[None]:
    """The test key published for each of `domains`; `extra` more TXT answers by name."""
    answers: dict[str, bytes | Exception] = {}
    for domain in domains:
        answers.update(key_record(domain))
    answers.update(extra)
    with offline_dns.records(answers):
        yield
