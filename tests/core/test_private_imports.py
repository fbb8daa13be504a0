"""No module of sustain imports another module's private names (`from x import _y`).

ruff's import-private-name (PLC2701) looks only at imports from outside the package, so this
test holds the line inside it: a name another module needs is public, or lives where both can
reach it (core, or the app's shared checks).
"""

from __future__ import annotations

import ast
from pathlib import Path

import sustain

SRC = Path(sustain.__file__).parent


def _module_name(path: Path, src: Path) -> str:
    parts = path.relative_to(src.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def private_imports(src: Path = SRC) -> set[tuple[str, str, str]]:
    found = set()
    for path in src.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        module = _module_name(path, src)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            source = _imported(module, node, path.name == "__init__.py")
            if not source.startswith("sustain") or source == module:
                continue
            for alias in node.names:
                name = alias.name
                if name.startswith("_") and not name.startswith("__"):
                    found.add((module, source, name))
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    found = sorted(private_imports())
    assert not found, "private names imported from another module (make them public): " + str(found)


def test_the_walk_finds_absolute_and_relative_private_imports(tmp_path: Path) -> None:
    src = tmp_path / "sustain"
    (src / "app").mkdir(parents=True)
    (src / "__init__.py").write_text("")
    (src / "app" / "__init__.py").write_text("from .rules import _shared\n")
    (src / "app" / "rules.py").write_text("_own = 1\n")
    (src / "app" / "views.py").write_text(
        "from sustain.app.rules import _helper, public\nfrom . import _x\nfrom .views import _own\n"
    )
    assert private_imports(src) == {
        ("sustain.app", "sustain.app.rules", "_shared"),
        ("sustain.app.views", "sustain.app.rules", "_helper"),
        ("sustain.app.views", "sustain.app", "_x"),
    }
