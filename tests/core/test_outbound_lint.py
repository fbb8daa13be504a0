"""Nothing in src/ reaches the outside world over HTTP or raw sockets except the outbound guard
(core/outbound.py): a new door that bypasses it would bring SSRF back."""

from __future__ import annotations

import ast
from pathlib import Path

import sustain

SRC = Path(sustain.__file__).resolve().parent
GUARD = SRC / "core" / "outbound.py"
FORBIDDEN = {
    "requests",
    "urllib.request",
    "urllib3",
    "http.client",
    "httpx",
    "aiohttp",
    "pycurl",
    "socket",
    "ftplib",
    "telnetlib",
}
FORBIDDEN_CALLS = {"create_connection", "urlopen", "getaddrinfo"}


def _offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_CALLS:
            names = [node.attr]
        for name in names:
            if name in FORBIDDEN_CALLS or any(
                name == f or name.startswith(f + ".") for f in FORBIDDEN
            ):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: {name}")
    return found


def test_only_the_guard_opens_connections():
    offences = [o for path in sorted(SRC.rglob("*.py")) if path != GUARD for o in _offences(path)]
    assert offences == [], "use sustain.core.outbound instead:\n" + "\n".join(offences)


def test_the_check_sees_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import requests\nfrom urllib import request\nimport http.client as h\n"
        "from socket import create_connection\nimport urllib.parse\nx.create_connection(1)\n"
    )
    global SRC
    saved, SRC = SRC, tmp_path
    try:
        found = [line.split(": ")[1] for line in _offences(sample)]
    finally:
        SRC = saved
    assert found == [
        "requests",
        "urllib.request",
        "http.client",
        "socket",
        "socket.create_connection",
        "create_connection",
    ]
