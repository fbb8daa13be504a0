"""A table of failed bearer-token attempts for the per-address throttle."""


import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_user_language'),
    ]

    operations = [
        migrations.CreateModel(
            name='TokenFailure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('address', models.CharField(max_length=64)),
                ('at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'indexes': [models.Index(fields=['address', 'at'], name='token_failure_address_idx'), models.Index(fields=['at'], name='token_failure_at_idx')],
            },
        ),
    ]
