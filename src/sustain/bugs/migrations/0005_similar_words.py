"""The side tables of the terms open tickets and bugs are found under by duplicate suggestions
(bugs.similar.index), filled from the open rows."""

import django.db.models.deletion
from django.db import migrations, models


def fill(apps, schema_editor):
    from sustain.bugs.similar import index

    # The index reads and writes the tables by name (its SQL), as they are at this migration.
    index.fill(apps.get_model("desk", "Ticket"))
    index.fill(apps.get_model("bugs", "Bug"))


class Migration(migrations.Migration):
    dependencies = [
        ("bugs", "0004_seal_repository_webhook_secret"),
        ("desk", "0004_list_order_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="BugWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("term", models.CharField(max_length=100)),
                (
                    "bug",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="bugs.bug"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("term", "bug"), name="bugword_term_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="TicketWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("term", models.CharField(max_length=100)),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="desk.ticket",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("term", "ticket"), name="ticketword_term_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
