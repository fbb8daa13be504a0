"""Every module under sustain imports first in a fresh interpreter: an import cycle (a facade
that re-exports a topic module which imports the facade back) raises ImportError only when the
wrong module of the cycle is imported first, so each module is tried first on its own.

One parent process sets Django up (the app registry and the models, which every module may
use), then forks a child per module. Modules that the apps' `ready()` imported (the admin
registrations, outbox handlers, Huey tasks …) are dropped from the child's module table first,
so they too are imported as if first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sustain

ROOT = Path(sustain.__file__).parent

PARENT = r"""
import importlib, os, sys, traceback
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
import django
from django.apps.registry import Apps

# The modules loaded once the models are (the last clear_cache() before models_ready).
after_models = set()
_clear = Apps.clear_cache
def clear_cache(self):
    if self.apps_ready and not self.models_ready:
        after_models.clear()
        after_models.update(sys.modules)
    _clear(self)
Apps.clear_cache = clear_cache
django.setup()
Apps.clear_cache = _clear
from_ready = {m for m in sys.modules if m.startswith("sustain") and m not in after_models}

def child(module):
    for name in from_ready:
        sys.modules.pop(name, None)
    from django.contrib import admin
    admin.site._registry.clear()
    from huey.contrib.djhuey import HUEY
    HUEY._registry._registry.clear()
    try:
        importlib.import_module(module)
    except BaseException:
        sys.stderr.write(f"--- {module}\n{traceback.format_exc()}")
        sys.stderr.flush()
        os._exit(1)
    os._exit(0)

modules = sys.stdin.read().split()
running, failed = {}, []
while modules or running:
    while modules and len(running) < 2:
        module = modules.pop()
        pid = os.fork()
        if pid == 0:
            child(module)
        running[pid] = module
    pid, status = os.wait()
    if status:
        failed.append(running[pid])
    del running[pid]
print(" ".join(sorted(failed)))
"""


def modules() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_every_module_imports_first() -> None:
    names = modules()
    assert "sustain.bugs.tickets" in names and len(names) > 100
    result = subprocess.run(
        [sys.executable, "-c", PARENT],
        input=" ".join(names),
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,  # where `tests.settings` is found
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip() == "", result.stderr[-8000:]
