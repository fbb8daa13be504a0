"""Figure: ticket creations per second through POST /api/v1/tickets, concurrent clients.

Start the server with `sustain run` (gunicorn and the worker), then from another shell:

    SUSTAIN_DATA_DIR=/tmp/bench-sqlite .venv/bin/python bench/create_api.py --clients 16

Each client thread holds one keep-alive connection and posts tickets back to back for
--seconds (after --warmup seconds that are not counted). Every ticket has a requester, so
each creation also writes its e-mail notification to the outbox for the worker.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from _common import Client, arguments, create_token, percentile, summary

TARGET_PER_SECOND = 300


def main() -> None:
    parser = arguments(__doc__.splitlines()[0], clients=16, seconds=20, warmup=3)
    parser.add_argument("--organization", default="acme")
    parser.add_argument("--requester", default="carol@acme.example")
    args = parser.parse_args()
    token = args.token or create_token(args.user)
    started = time.monotonic()
    measure_from = started + args.warmup
    stop_at = measure_from + args.seconds
    latencies: list[float] = []
    failures: dict[int, int] = {}
    first_error: list[str] = []
    lock = threading.Lock()

    def client_loop(number: int) -> None:
        client = Client(
            args.url, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        )
        i = 0
        while (now := time.monotonic()) < stop_at:
            i += 1
            body = json.dumps(
                {
                    "title": f"Bench: checkout returns 502 (client {number}, #{i})",
                    "description": "Created by bench/create_api.py.\n\nSteps: open the page.",
                    "organization": args.organization,
                    "requester": args.requester,
                    "impact": 1 + i % 3,
                    "urgency": 1 + number % 3,
                }
            ).encode()
            status, answer, seconds = client.request("POST", "/api/v1/tickets", body)
            if now < measure_from or now + seconds > stop_at:
                continue  # warm-up, or finished after the window closed
            with lock:
                if status == 201:
                    latencies.append(seconds)
                else:
                    failures[status] = failures.get(status, 0) + 1
                    if not first_error:
                        first_error.append(answer[:300].decode(errors="replace"))

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = len(latencies) / args.seconds
    print(f"ticket creation (POST /api/v1/tickets), {args.clients} clients, {args.seconds} s")
    print(f"  created   {len(latencies)}   failed {sum(failures.values())} {failures or ''}")
    if first_error:
        print(f"  first failure: {first_error[0]}")
    if latencies:
        print(f"  latency   {summary(latencies)}")
        print(f"  p99.9     {percentile(latencies, 99.9) * 1000:.1f} ms")
    verdict = "met" if rate >= TARGET_PER_SECOND and not failures else "MISSED"
    print(
        f"FIGURE ticket creation: {rate:.0f} tickets/s "
        f"(target >= {TARGET_PER_SECOND}/s, no failures: {verdict})"
    )
    sys.exit(0 if verdict == "met" else 1)


if __name__ == "__main__":
    main()
