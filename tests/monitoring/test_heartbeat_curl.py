"""A cron job's shell script pings a live server with real `curl`: start, its log as the body,
then its exit status; and a job that then stops pinging goes late and down."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import unittest
from datetime import timedelta

from django.test import LiveServerTestCase

from sustain.accounts.models import Organization
from sustain.monitoring import heartbeats
from sustain.monitoring.models import Alert, Heartbeat, Ping, Source

SCRIPT = """set -e
URL="$1"
RID=$(cat /proc/sys/kernel/random/uuid)
curl -fsS -m 10 "$URL/start?rid=$RID" >/dev/null
echo "copied 12 files" > "$2/log.txt"
curl -fsS -m 10 --data-binary @"$2/log.txt" "$URL/0?rid=$RID"
"""


@unittest.skipIf(shutil.which("curl") is None, "curl is not installed")
class CurlPingsTests(LiveServerTestCase):
    def test_a_shell_script_pings_then_stops(self):
        org = Organization.objects.create(name="Acme", slug="acme")
        source = Source.objects.create(organization=org, name="backup", kind=Source.Kind.HEARTBEAT)
        beat = Heartbeat.objects.create(
            organization=org, name="backup", source=source, period_seconds=60, grace_seconds=60
        )
        work = self.enterContext(tempfile.TemporaryDirectory())
        done = subprocess.run(
            ["sh", "-c", SCRIPT, "sh", f"{self.live_server_url}/ping/{beat.uuid}", work],
            capture_output=True,
            text=True,
            timeout=60,
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, "OK")
        start, end = Ping.objects.filter(heartbeat=beat).order_by("at")
        self.assertEqual((start.kind, end.kind, end.exit_status), ("start", "success", 0))
        self.assertEqual(start.rid, end.rid)
        self.assertEqual(end.body, "copied 12 files\n")
        self.assertIn("curl/", end.user_agent)
        self.assertIsNotNone(end.duration)
        beat.refresh_from_db()
        self.assertEqual(beat.state, Heartbeat.State.UP)
        # the job stops pinging: late after the period, down (one alert) a grace later
        last = beat.last_ping_at
        heartbeats.heartbeat_sweep(last + timedelta(seconds=61))
        heartbeats.heartbeat_sweep(last + timedelta(seconds=122))
        beat.refresh_from_db()
        self.assertEqual(beat.state, Heartbeat.State.DOWN)
        self.assertEqual(Alert.objects.get(source=source).state, Alert.State.FIRING)
