"""Full-text search over bugs: FTS5 on SQLite, a tsvector column with GIN on PostgreSQL."""

from django.db import migrations

from sustain.core.search import FullTextIndex

BUG_SEARCH = FullTextIndex("bugs_bug", ("key", "title", "description"))


class Migration(migrations.Migration):
    dependencies = [("bugs", "0002_initial")]

    operations = [BUG_SEARCH.migration()]
