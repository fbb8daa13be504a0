"""PostgreSQL: rebuild the ticket search column so that punctuation splits words as in SQLite
(INC-1042 is found by 1042, 2.4.1 by 4, an e-mail address by its domain). SQLite: nothing."""

from django.db import migrations

from sustain.core.search import FullTextIndex

TICKET_SEARCH = FullTextIndex("desk_ticket", ("key", "title", "description"))


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE desk_ticket DROP COLUMN IF EXISTS search_vector")
    for sql in TICKET_SEARCH._postgres_sql():
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("desk", "0002_search_and_matrix")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
