"""`sustain run`: migrate, then serve the web UI and API (gunicorn) and the worker together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, then run the web server (gunicorn) and the background worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--demo", action="store_true", help="Load demo data into an empty database."
        )
        parser.add_argument(
            "--web-workers",
            type=int,
            default=min(2 * (os.cpu_count() or 1) + 1, 8),
            help="gunicorn worker processes.",
        )
        parser.add_argument(
            "--web-threads", type=int, default=4, help="Threads per gunicorn worker process."
        )
        parser.add_argument("--no-worker", action="store_true", help="Do not start the worker.")

    def handle(
        self,
        *args: Any,
        host: str,
        port: int,
        demo: bool,
        web_workers: int,
        web_threads: int,
        no_worker: bool,
        **options: Any,
    ) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if demo:
            # The demo app's command loads the world (core imports no app).
            call_command("demo", if_empty=True, stdout=self.stdout)
        metrics_dir()
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "sustain.wsgi",
            "--config",
            "python:sustain.core.gunicorn_hooks",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(web_workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(web_threads),
            "--access-logfile",
            "-",
            "--log-level",
            "warning",
            "--graceful-timeout",
            "10",
        ]
        processes = [subprocess.Popen(web)]
        if not no_worker:
            processes.append(
                subprocess.Popen([sys.executable, "-m", "sustain.cli", "worker", "-q"])
            )
        self.stdout.write(self.style.SUCCESS(f"Sustain is running on http://{host}:{port}/"))
        self.stdout.flush()

        def stop(signum: int, frame: Any) -> None:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
        finally:
            stop(signal.SIGTERM, None)
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        codes = [p.returncode for p in processes]
        if any(code not in (0, -signal.SIGTERM, -signal.SIGINT) for code in codes):
            sys.exit(1)


def metrics_dir() -> Path:
    """PROMETHEUS_MULTIPROC_DIR for the web and worker processes started here: the given one or
    DATA_DIR/metrics, emptied of the last run's metric files (prometheus_client's multiprocess
    mode sums every file it finds there, so a stale one would count twice)."""
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.DATA_DIR / "metrics")
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path
