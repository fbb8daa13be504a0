"""Full-text index on tickets (FTS5 or tsvector + GIN) and the default priority matrix."""

from django.db import migrations

from sustain.core.search import FullTextIndex

TICKET_SEARCH = FullTextIndex("desk_ticket", ("key", "title", "description"))


def default_matrix(apps, schema_editor):
    from sustain.desk.workflow import DEFAULT_MATRIX

    PriorityRule = apps.get_model("desk", "PriorityRule")
    PriorityRule.objects.bulk_create(
        [PriorityRule(impact=i, urgency=u, priority=p) for (i, u), p in DEFAULT_MATRIX.items()]
    )


class Migration(migrations.Migration):
    dependencies = [("desk", "0001_initial")]

    operations = [
        TICKET_SEARCH.migration(),
        migrations.RunPython(default_matrix, migrations.RunPython.noop),
    ]
