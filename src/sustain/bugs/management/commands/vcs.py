"""`sustain vcs scan PATH [--since REV] [--repository NAME] [--branch BRANCH ...]` and
`sustain vcs between REPOSITORY FROM_TAG TO_TAG`.

Reads a local clone with git: the default branch and every local or remote-tracking branch
matching the repository's patterns (or the branches named), all commits or those after REV.
Commits are stored once; `Fixes BUG-12` on a branch that counts marks the bug fixed, `Refs
BUG-12` links it. Rescanning changes nothing. Without --repository, the repository whose path
this is, or a new one named after the directory.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sustain.accounts.actions import system_actor
from sustain.bugs.models import Repository
from sustain.bugs.vcs import scan
from sustain.core.errors import ActionError


class Command(BaseCommand):
    help = "Source repositories: read a local git clone for commits that fix bugs."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        run = sub.add_parser("scan", help="Record the commits of a local git repository.")
        run.add_argument("path", help="The clone (a working tree or a bare repository).")
        run.add_argument("--since", default=None, help="Only commits after this revision.")
        run.add_argument("--repository", default=None, help="The repository (name) it is.")
        run.add_argument(
            "--branch",
            action="append",
            default=None,
            help="Only this branch (repeatable); default: the branches that count.",
        )

        between = sub.add_parser(
            "between", help="The commits a tag adds to another (git rev-list FROM..TO)."
        )
        between.add_argument("repository", help="The repository (name); its path is read.")
        between.add_argument("from_tag")
        between.add_argument("to_tag")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        getattr(self, f"_{verb}")(**options)

    def _scan(
        self,
        path: str,
        since: str | None,
        repository: str | None,
        branch: list[str] | None,
        **_: Any,
    ) -> None:
        actor = system_actor()
        try:
            repo = scan.repository_for(actor, path, repository)
            result = scan.scan(actor, repo, path, since=since, only=branch)
        except ActionError as exc:
            raise CommandError(exc.message) from None
        for r in result.branches:
            mark = "" if r.counts else " (does not count for fixes)"
            self.stdout.write(f"{r.branch}{mark}: {r.seen} commits, {r.new} new")
        fixed, linked, unknown = (result.keys(a) for a in ("fixed", "linked", "unknown"))
        pending = result.keys("pending")
        self.stdout.write(
            f"{repo.name}: {len(result.branches)} branches, {result.seen} commits seen, "
            f"{result.new} new, {len(fixed)} bugs fixed, {len(linked)} linked, "
            f"{len(unknown)} unknown keys"
        )
        if unknown:
            self.stdout.write("unknown keys: " + " ".join(unknown[:50]))
        if pending:
            self.stdout.write("fixed on branches that do not count: " + " ".join(pending[:50]))
        for r in result.branches:
            for key, reason in r.refused:
                self.stdout.write(f"refused {key}: {reason}")

    def _between(self, repository: str, from_tag: str, to_tag: str, **_: Any) -> None:
        repo = Repository.objects.filter(name=repository).first()
        if repo is None:
            raise CommandError(f"No repository named '{repository}'.")
        try:
            shas = scan.commits_between(repo, from_tag, to_tag)
        except ActionError as exc:
            raise CommandError(exc.message) from None
        for sha in shas:
            self.stdout.write(sha)
