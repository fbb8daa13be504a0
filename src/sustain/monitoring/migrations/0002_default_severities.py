"""The severities Prometheus rules use most, mapped to impact and urgency (admins edit them)."""

from django.db import migrations

# severity → (impact, urgency): 1 high, 2 medium, 3 low.
DEFAULTS = {
    "critical": (1, 1),
    "page": (1, 1),
    "error": (2, 1),
    "major": (2, 1),
    "warning": (2, 2),
    "minor": (3, 2),
    "info": (3, 3),
    "none": (3, 3),
}


def seed(apps, schema_editor):
    mapping = apps.get_model("monitoring", "SeverityMapping")
    for severity, (impact, urgency) in DEFAULTS.items():
        mapping.objects.get_or_create(
            severity=severity, defaults={"impact": impact, "urgency": urgency}
        )


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
