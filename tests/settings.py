"""Test settings: Sustain's own, with a throwaway data directory and fast hashing."""

import os
import tempfile

os.environ.setdefault("SUSTAIN_DATA_DIR", tempfile.mkdtemp(prefix="sustain-test-"))
os.environ.setdefault("SUSTAIN_SECRET_KEY", "test-secret-key-not-for-production")

from sustain.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
HUEY = {**HUEY, "immediate": True}  # noqa: F405
AXES_ENABLED = True
