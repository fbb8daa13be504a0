"""Figure: Alertmanager's webhook, received → incident committed, and a herd of one alert.

Starts its own server: `sustain run` (gunicorn with its default workers and threads, and the
worker) on a fresh SQLite data directory under /tmp (or DATABASE_URL when set: a database of
your own), with a customer and a machine token for it (bench/_monitoring_world.py); then

1. sequential deliveries (one client, one keep-alive connection, each sent when the last was
   answered) of distinct firing alerts, each opening its own incident: the webhook answers
   after the transaction has committed, so the answer's latency is received → committed.
   Target: p95 < 100 ms.
2. `--herd` connections (default 100) deliver the same new alert at once (a barrier releases
   them together), as an HA pair's retries would at worst: every answer 200, and exactly one
   alert row and one incident, its `received` counting every delivery.

    .venv/bin/python bench/alertmanager_webhook.py [--deliveries 300] [--warmup 30] [--herd 100]
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import Client, arguments, percentile, summary
from _load import Server

TARGET_P95_MS = 100
WORLD = str(Path(__file__).resolve().parent / "_monitoring_world.py")
PATH = "/api/v1/hooks/alertmanager"


def delivery(fingerprint: str, name: str) -> bytes:
    """One version-4 webhook payload with one firing alert, as Alertmanager writes it."""
    labels = {"alertname": name, "severity": "critical", "job": "checkout", "instance": "web-1"}
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{name}"}}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "sustain",
            "groupLabels": {"alertname": name},
            "commonLabels": labels,
            "commonAnnotations": {},
            "externalURL": "http://alertmanager.bench:9093",
            "alerts": [
                {
                    "status": "firing",
                    "labels": labels,
                    "annotations": {"summary": "5xx above 5 %", "description": "Checkout fails."},
                    "startsAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.bench:9090/graph?g0.expr=rate",
                    "fingerprint": fingerprint,
                }
            ],
        }
    ).encode()


def sequential(client: Client, count: int, warmup: int) -> list[float]:
    timings = []
    for i in range(warmup + count):
        status, body, seconds = client.request("POST", PATH, delivery(f"seq-{i:06d}", f"Seq{i}"))
        if status != 200 or json.loads(body).get("opened") != 1:
            sys.exit(f"delivery {i} answered {status}: {body[:300]!r}")
        if i >= warmup:
            timings.append(seconds)
    return timings


def herd(url: str, headers: dict[str, str], count: int, fingerprint: str) -> list[int]:
    """`count` connections, opened first, deliver the same alert when a barrier lets them."""
    clients = [Client(url, headers) for _ in range(count)]
    for client in clients:
        client.conn.connect()
    barrier, answers = threading.Barrier(count), [0] * count
    payload = delivery(fingerprint, "Herd")

    def send(n: int) -> None:
        barrier.wait()
        try:
            answers[n] = clients[n].request("POST", PATH, payload)[0]
        except OSError:
            answers[n] = 0

    threads = [threading.Thread(target=send, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def main() -> None:
    parser = arguments(__doc__.splitlines()[0], deliveries=300, warmup=30, herd=100)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    with Server(demo=False) as server:
        world = server.world("setup", "0", script=WORLD)
        headers = {"Authorization": f"Bearer {world['token']}", "Content-Type": "application/json"}
        client = Client(server.url, headers)
        cpu_before = server.cpu()
        timings = sequential(client, args.deliveries, args.warmup)
        cpu = (server.cpu() - cpu_before) * 1000 / (args.deliveries + args.warmup)
        p95 = percentile(timings, 95) * 1000
        print(f"sequential deliveries, each opening an incident: {summary(timings)}")
        print(f"  server CPU per delivery (gunicorn, workers, worker): {cpu:.1f} ms")

        started = time.perf_counter()
        answers = herd(server.url, headers, args.herd, "herd-1")
        took = time.perf_counter() - started
        found = server.world("alert", "herd-1", script=WORLD)
        codes = {code: answers.count(code) for code in sorted(set(answers))}
        print(
            f"{args.herd} deliveries of one alert at once: answers {codes} in {took:.2f} s; "
            f"{found['alerts']} alert row, {found['incidents']} incident, "
            f"received {found['received']}"
        )
        totals = server.world("incidents", script=WORLD)
        print(f"  in all: {totals}")
    print(f"load average after: {os.getloadavg()}")
    one = found["alerts"] == 1 and found["incidents"] == 1 and codes == {200: args.herd}
    one = one and found["received"] == args.herd
    met = p95 < TARGET_P95_MS
    print(
        f"FIGURE alertmanager webhook received → incident committed: p95 {p95:.1f} ms "
        f"(target < {TARGET_P95_MS} ms: {'met' if met else 'MISSED'}); "
        f"{args.herd} concurrent deliveries → {found['incidents']} incident "
        f"({'met' if one else 'MISSED'})"
    )
    sys.exit(0 if met and one else 1)


if __name__ == "__main__":
    main()
