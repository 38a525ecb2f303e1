from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("saas", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="idempotency_key",
            field=models.CharField(blank=True, max_length=100),
        ),
    ]
