# Placeholder in the 0.2 chain; filled in by its feature's work.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("graceful_cancel", "0006_jurisdiction"),
    ]

    operations = []
