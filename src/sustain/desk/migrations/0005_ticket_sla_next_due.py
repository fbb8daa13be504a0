"""The SLA-first queues' columns on the ticket: its next due instant and warning point, as
`sla.clocks.next_due` keeps them, backfilled from the clocks, with their partial index."""

from django.db import migrations, models

# The same rule as sla.clocks.next_due, in one set-based statement: over the ticket's active
# clocks (counting, not met, running or breached), the nearest due instant (a breached clock's
# breach when its due instant was cleared) and the earliest warning point (a clock already
# warned whose warning instant was cleared counts from its start).
ACTIVE = (
    "FROM sla_clock c WHERE c.ticket_id = desk_ticket.id AND c.counting"
    " AND c.met_at IS NULL AND c.state IN ('running', 'breached')"
)
BACKFILL = f"""
UPDATE desk_ticket SET
  sla_due_at = (SELECT MIN(COALESCE(c.due_at, c.breached_at, c.counted_until)) {ACTIVE}),
  sla_warn_at = (SELECT MIN(COALESCE(c.warn_at, c.warned_at, c.started_at)) {ACTIVE})
WHERE id IN (SELECT ticket_id FROM sla_clock
             WHERE counting AND met_at IS NULL AND state IN ('running', 'breached'))
"""


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(BACKFILL)


class Migration(migrations.Migration):

    dependencies = [
        ('desk', '0004_list_order_indexes'),
        ('sla', '0003_clock_counting'),
    ]

    operations = [
        migrations.AddField(
            model_name='ticket',
            name='sla_due_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='ticket',
            name='sla_warn_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(
                condition=models.Q(('sla_due_at__isnull', False)),
                fields=['sla_due_at', 'id'],
                name='ticket_sla_due_idx',
            ),
        ),
    ]
