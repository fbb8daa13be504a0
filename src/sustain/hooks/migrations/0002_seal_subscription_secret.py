"""Seal the webhook signing secrets at rest (sustain.core.sealing): the column becomes text, then every
clear value already stored is sealed with the current key (and opened again if reversed)."""

import sustain.core.sealing
from django.db import migrations


SEAL, UNSEAL = sustain.core.sealing.seal_clear_rows("hooks", "subscription", "secret")


class Migration(migrations.Migration):
    dependencies = [
        ("hooks", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="subscription",
            name="secret",
            field=sustain.core.sealing.SealedTextField(max_length=128),
        ),
        migrations.RunPython(SEAL, UNSEAL),
    ]
