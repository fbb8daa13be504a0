"""Ticket list orders backed by an index: order=priority (priority, id DESC) and order=updated."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('cmdb', '0001_initial'),
        ('desk', '0003_search_splits_punctuation'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_priority_idx',
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(fields=['priority', '-id'], name='ticket_priority_newest_idx'),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(fields=['updated_at', 'id'], name='ticket_updated_idx'),
        ),
    ]
