"""Push webhooks of GitHub, Gitea (and Forgejo) and GitLab: who sent it, and what it says.

- GitHub: `X-GitHub-Event`, `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
- Gitea / Forgejo: `X-Gitea-Event` (`X-Forgejo-Event`), `X-Gitea-Signature`
  (`X-Forgejo-Signature`): the hex HMAC-SHA256 of the raw body.
- GitLab: `X-Gitlab-Event: Push Hook`, `X-Gitlab-Token`: the secret itself.

The three push bodies share their shape: `ref` (`refs/heads/<branch>`) and `commits`, each with
`id`, `message`, `timestamp`, `url` and `author` {`name`, `email`}. Everything is checked
before anything is written; a refusal names the field.

Fields these formats define and Sustain does not use are ignored, as the providers'
specifications ask of a receiver (they add fields over time): so these bodies are not read
through the API's strict `Input` schemas, which refuse unknown fields.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from django.utils.datastructures import CaseInsensitiveMapping

from sustain.bugs.models import Repository
from sustain.bugs.vcs.actions import SHA, CommitData, check_branch
from sustain.core.errors import ActionError, Forbidden, Invalid

MAX_BODY = 5 * 1024 * 1024
MAX_COMMITS = 5000  # GitHub sends at most 2048 per push, GitLab 20 with a count


class Unauthenticated(ActionError):
    status = 401


class TooLarge(ActionError):
    status = 413


class Malformed(ActionError):
    status = 400


GITHUB, GITEA, GITLAB = Repository.Provider.GITHUB, Repository.Provider.GITEA, "gitlab"


def provider_of(headers: CaseInsensitiveMapping) -> str | None:
    """Which provider's conventions the request follows (Gitea also sends GitHub's headers,
    so it is asked first)."""
    if any(h in headers for h in ("X-Gitea-Event", "X-Gitea-Signature", "X-Forgejo-Event")):
        return GITEA
    if "X-Gitlab-Event" in headers or "X-Gitlab-Token" in headers:
        return GITLAB
    if "X-GitHub-Event" in headers or "X-Hub-Signature-256" in headers:
        return GITHUB
    return None


def _hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def authenticate(repository: Repository, headers: CaseInsensitiveMapping, body: bytes) -> str:
    """The provider whose signature (or token) proves the request; refuses otherwise."""
    if not repository.webhook_secret:
        raise Forbidden(
            f"Repository '{repository.name}' has no webhook secret: set one (PATCH "
            f"/api/v1/vcs/repositories/{repository.pk} with webhook_secret) and give the same "
            "to the provider; pushes are refused until then.",
            field="webhook_secret",
        )
    provider = provider_of(headers)
    if provider is None:
        raise Unauthenticated(
            "Unsigned request: send X-Hub-Signature-256 (GitHub), X-Gitea-Signature (Gitea) "
            "or X-Gitlab-Token (GitLab).",
            field="X-Hub-Signature-256",
        )
    configured = repository.provider
    if configured != Repository.Provider.LOCAL and configured != provider:
        raise Forbidden(
            f"This repository takes pushes from {configured}, not from {provider}.",
            field="provider",
        )
    secret = repository.webhook_secret
    if provider == GITLAB:
        token = headers.get("X-Gitlab-Token", "")
        if not token:
            raise Unauthenticated("X-Gitlab-Token is missing.", field="X-Gitlab-Token")
        if not hmac.compare_digest(token.encode(), secret.encode()):
            raise Forbidden(
                "X-Gitlab-Token does not match the repository's secret.", field="X-Gitlab-Token"
            )
        return provider
    if provider == GITEA:
        name = next(
            (h for h in ("X-Gitea-Signature", "X-Forgejo-Signature") if headers.get(h)), None
        )
        given = headers.get(name, "") if name else ""
    else:
        name, given = "X-Hub-Signature-256", headers.get("X-Hub-Signature-256", "")
        if given and not given.startswith("sha256="):
            raise Forbidden(
                "X-Hub-Signature-256 must read sha256=<hex digest>.", field="X-Hub-Signature-256"
            )
        given = given.removeprefix("sha256=")
    if not given:
        header = name or "X-Gitea-Signature"
        raise Unauthenticated(f"The signature header ({header}) is missing.", field=header)
    if not hmac.compare_digest(given.strip().lower().encode(), _hmac(secret, body).encode()):
        raise Forbidden(
            f"{name}: the signature does not match the body and the secret.", field=str(name)
        )
    return provider


def event_of(provider: str, headers: CaseInsensitiveMapping) -> str:
    """push, ping or what else the provider calls it (lower case)."""
    if provider == GITLAB:
        event = headers.get("X-Gitlab-Event", "")
        return {"push hook": "push", "tag push hook": "tag_push"}.get(event.lower(), event.lower())
    if provider == GITEA:
        return (headers.get("X-Gitea-Event") or headers.get("X-Forgejo-Event") or "").lower()
    return headers.get("X-GitHub-Event", "").lower()


@dataclass
class Push:
    ref: str
    branch: str | None  # None: not a branch (a tag, a note)
    commits: list[CommitData]


def _text(value: Any, field: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise Invalid(f"{field} must be a string.", field=field)
    return value


def _when(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(_text(value, field))
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC)
    except (ValueError, OverflowError):
        raise Invalid(f"{field} is not an ISO 8601 date-time.", field=field) from None


def _commit(raw: Any, i: int) -> CommitData:
    where = f"commits[{i}]"
    if not isinstance(raw, dict):
        raise Invalid(f"{where} must be an object.", field=where)
    author = raw.get("author") or {}
    if not isinstance(author, dict):
        raise Invalid(f"{where}.author must be an object.", field=f"{where}.author")
    sha = _text(raw.get("id"), f"{where}.id").strip().lower()
    if not SHA.match(sha):
        raise Invalid(f"{where}.id is not a commit id.", field=f"{where}.id")
    return CommitData(
        sha=sha,
        message=_text(raw.get("message"), f"{where}.message"),
        author_name=_text(author.get("name"), f"{where}.author.name", required=False),
        author_email=_text(author.get("email"), f"{where}.author.email", required=False),
        committed_at=_when(raw.get("timestamp"), f"{where}.timestamp"),
        url=_text(raw.get("url"), f"{where}.url", required=False),
    )


def json_of(body: bytes, content_type: str) -> bytes:
    """GitHub and Gitea may also post `payload=<JSON>` form-encoded (signed as sent)."""
    if content_type == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(body.decode(), strict_parsing=True, max_num_fields=10)
        except (ValueError, UnicodeDecodeError):
            raise Malformed("The form body cannot be read.", field="payload") from None
        if len(form.get("payload", [])) != 1:
            raise Invalid("The form has no payload field.", field="payload")
        return form["payload"][0].encode()
    return body


def parse_push(body: bytes) -> Push:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed(f"The body is not JSON: {exc}.", field="body") from None
    if not isinstance(payload, dict):
        raise Invalid("The body must be a JSON object.", field="body")
    ref = _text(payload.get("ref"), "ref")
    commits = payload.get("commits")
    if commits is None:
        commits = []  # a branch deletion carries none
    if not isinstance(commits, list):
        raise Invalid("commits must be a list.", field="commits")
    if len(commits) > MAX_COMMITS:
        raise Invalid(f"More than {MAX_COMMITS} commits in one push.", field="commits")
    parsed = [_commit(c, i) for i, c in enumerate(commits)]
    branch = None
    if ref.startswith("refs/heads/"):
        branch = ref.removeprefix("refs/heads/")
        try:
            branch = check_branch(branch)
        except Invalid as exc:
            raise Invalid(f"ref: {exc.message}", field="ref") from None
    elif not ref.startswith("refs/"):
        raise Invalid("ref must read refs/heads/<branch> (or refs/tags/<tag>).", field="ref")
    return Push(ref=ref, branch=branch, commits=parsed)
