"""Comments and attachments remember the ticket a merge moved them from (its people keep the
whole conversation in view)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('desk', '0006_kind_label_sentence_case'),
    ]

    operations = [
        migrations.AddField(
            model_name='attachment',
            name='merged_from',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='merged_attachments', to='desk.ticket'),
        ),
        migrations.AddField(
            model_name='comment',
            name='merged_from',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='merged_comments', to='desk.ticket'),
        ),
    ]
