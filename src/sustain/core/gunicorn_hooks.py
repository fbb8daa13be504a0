"""gunicorn's configuration hooks for `sustain run` (`-c python:sustain.core.gunicorn_hooks`).

A gunicorn worker that exits leaves its metric files in PROMETHEUS_MULTIPROC_DIR; marking it
dead lets prometheus_client drop its live gauges while its counters keep counting in the sum.
"""

from __future__ import annotations

import os
from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
