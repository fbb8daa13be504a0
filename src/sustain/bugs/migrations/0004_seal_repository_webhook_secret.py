"""Seal the repository push secrets at rest (sustain.core.sealing): the column becomes text, then every
clear value already stored is sealed with the current key (and opened again if reversed)."""

import sustain.core.sealing
from django.db import migrations


SEAL, UNSEAL = sustain.core.sealing.seal_clear_rows("bugs", "repository", "webhook_secret")


class Migration(migrations.Migration):
    dependencies = [
        ("bugs", "0003_search"),
    ]

    operations = [
        migrations.AlterField(
            model_name="repository",
            name="webhook_secret",
            field=sustain.core.sealing.SealedTextField(blank=True, default="", max_length=200),
        ),
        migrations.RunPython(SEAL, UNSEAL),
    ]
