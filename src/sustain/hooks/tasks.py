"""Worker jobs of webhooks: the delivery log is kept for LOG_DAYS days."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from sustain.hooks.models import Delivery

LOG_DAYS = 30


def prune_log(now=None) -> int:
    now = now or timezone.now()
    return Delivery.objects.filter(created_at__lt=now - timedelta(days=LOG_DAYS)).delete()[0]


@db_periodic_task(crontab(minute="17", hour="3"))
def prune_delivery_log() -> int:
    return prune_log()
