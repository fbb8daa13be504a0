"""A real HTTP receiver on 127.0.0.1 for webhook tests, run in a thread by the test.

It verifies signatures the way the README tells receivers to, records every request, and
answers from a script: a list of status codes (then 200), or "hang" to never answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE = 300  # seconds a timestamp may be old


def verify(secret: str, headers: Any, body: bytes, now: float | None = None) -> bool:
    """What a receiver does: recompute the HMAC over "<timestamp>.<body>", compare in constant
    time, and refuse stale timestamps (replays)."""
    timestamp = headers.get("X-Sustain-Timestamp", "")
    signature = headers.get("X-Sustain-Signature", "")
    if not timestamp.isdigit() or not signature.startswith("sha256="):
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > TOLERANCE:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(signature.removeprefix("sha256="), expected.hexdigest())


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def delivery(self) -> str:
        return self.headers["X-Sustain-Delivery"]


@dataclass
class Receiver:
    secret: str = ""
    script: list[Any] = field(default_factory=list)  # status codes or "hang"; then 200
    delay: float = 0.0  # seconds before answering (a slow receiver)
    received: list[Received] = field(default_factory=list)
    acted_on: dict[str, Received] = field(default_factory=dict)  # deduplicated by delivery id
    duplicates: int = 0
    bad_signatures: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.release = threading.Event()  # set to let hanging requests go
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items()}
                request = Received(self.path, headers, body)
                with receiver.lock:
                    receiver.received.append(request)
                    answer = receiver.script.pop(0) if receiver.script else 200
                if answer == "hang":
                    receiver.release.wait(30)
                    return
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = int(answer)
                if status < 300:
                    if receiver.secret and not verify(receiver.secret, headers, body):
                        with receiver.lock:
                            receiver.bad_signatures += 1
                        status = 401
                    else:
                        with receiver.lock:
                            delivery = headers.get("X-Sustain-Delivery", "")
                            if delivery in receiver.acted_on:
                                receiver.duplicates += 1
                            else:
                                receiver.acted_on[delivery] = request
                reply = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
