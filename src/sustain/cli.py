"""`sustain`: Django's manage with Sustain's settings (plus `run`, `worker`, `demo`, `token`)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sustain.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "sustain"
    # `sustain worker` is Huey's consumer under a name an operator can guess.
    if len(args) > 1 and args[1] == "worker":
        args[1] = "run_huey"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
