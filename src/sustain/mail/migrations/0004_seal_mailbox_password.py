"""Seal the IMAP passwords at rest (sustain.core.sealing): the column becomes text, then every
clear value already stored is sealed with the current key (and opened again if reversed)."""

import sustain.core.sealing
from django.db import migrations


SEAL, UNSEAL = sustain.core.sealing.seal_clear_rows("mail", "mailbox", "password")


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0003_inboundmail_authentication"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mailbox",
            name="password",
            field=sustain.core.sealing.SealedTextField(blank=True, default="", max_length=255),
        ),
        migrations.RunPython(SEAL, UNSEAL),
    ]
