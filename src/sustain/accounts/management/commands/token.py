"""`sustain token create EMAIL [--expires DAYS]`: the new token alone on the last line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sustain.accounts import actions
from sustain.accounts.models import ApiToken, User
from sustain.core.errors import ActionError


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="Create a token for a user.")
        create.add_argument("email")
        create.add_argument("--expires", type=int, default=None, help="Days until it expires.")
        create.add_argument("--name", default="")
        create.add_argument("--scope", choices=["read", "write"], default="write")
        listing = sub.add_parser("list", help="List a user's tokens.")
        listing.add_argument("email")
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        try:
            getattr(self, f"_{verb}")(**options)
        except ActionError as exc:
            raise CommandError(exc.message) from None

    def _user(self, email: str) -> User:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with e-mail {email}.")
        return user

    def _create(self, email: str, expires: int | None, name: str, scope: str, **_: Any) -> None:
        user = self._user(email)
        token, raw = actions.create_token(
            None, user, name=name, expires_in_days=expires, scope=scope
        )
        when = token.expires_at.isoformat() if token.expires_at else "never"
        self.stderr.write(f"Token {token.prefix}… for {user.email}, expires {when}. Shown once:")
        self.stdout.write(raw)

    def _list(self, email: str, **_: Any) -> None:
        for token in self._user(email).api_tokens.order_by("id"):
            state = (
                "revoked" if token.revoked_at else ("usable" if token.is_usable() else "expired")
            )
            self.stdout.write(
                f"{token.prefix}…  {token.scope:5}  {state:8}  last used {token.last_used_at or 'never'}"
            )

    def _revoke(self, prefix: str, **_: Any) -> None:
        token = ApiToken.objects.filter(prefix=prefix.rstrip("…"), revoked_at__isnull=True).first()
        if token is None:
            raise CommandError(f"No usable token starting {prefix}.")
        actions.revoke_token(token.user, token)
        self.stdout.write(f"Revoked {token.prefix}…")
