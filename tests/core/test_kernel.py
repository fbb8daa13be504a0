"""core is the kernel under every app: no module under sustain/core imports an app (or anything
of sustain's outside core), not in a function, not under `if TYPE_CHECKING:`. What core needs
from an app is handed to it (a registered handler, settings.AUTH_USER_MODEL, a command name)."""

from __future__ import annotations

import ast
from pathlib import Path

import sustain.core

CORE = Path(sustain.core.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, package: str) -> list[tuple[int, str]]:
    """Every module `source` (a module of `package`) imports, with its line: top-level, in
    functions, in any block."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package, up level - 1
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
    return found


def outside_core(source: str, package: str, where: str) -> list[str]:
    return [
        f"{where}:{line} imports {target}"
        for line, target in imported(source, package)
        if (target == "sustain" or target.startswith("sustain."))
        and not (target == "sustain.core" or target.startswith("sustain.core."))
    ]


def problems(path: Path) -> list[str]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return outside_core(path.read_text(), package, str(path.relative_to(CORE.parent)))


def test_core_imports_no_app() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 30
    found = [problem for path in modules for problem in problems(path)]
    assert found == [], "core imports an app:\n" + "\n".join(found)


def test_the_check_sees_every_kind_of_import() -> None:
    """Function-level, TYPE_CHECKING and relative imports are all found."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from sustain.accounts.models import User\n"
        "def f():\n"
        "    import sustain.desk.models\n"
        "    from ..mail import threads\n"
        "from . import events\n"
        "from .search import filter\n"
    )
    found = {p.split(" imports ")[1] for p in outside_core(source, "sustain.core", "sample")}
    assert found == {"sustain.accounts.models", "sustain.desk.models", "sustain.mail"}
