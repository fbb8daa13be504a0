"""Test settings: Sustain's own, with a throwaway data directory and fast hashing."""

import os
import tempfile

# Each test process (each pytest-xdist worker too) gets its own data directory: workers
# inherit the controller's environment, and a shared attachments folder would let one
# worker's uploads show up in another's checks.
os.environ["SUSTAIN_DATA_DIR"] = tempfile.mkdtemp(
    prefix=f"sustain-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-"
)
os.environ.setdefault("SUSTAIN_SECRET_KEY", "test-secret-key-not-for-production")

from sustain.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
HUEY = {**HUEY, "immediate": True}  # noqa: F405
AXES_ENABLED = True

# Mail authentication looks DKIM keys and DMARC policies up here: never on the network.
MAIL_DNS_RESOLVER = "tests.mail.offline_dns.txt"
