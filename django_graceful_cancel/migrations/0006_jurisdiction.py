# The case records the customer's jurisdiction and where it came from (jurisdiction.py), and
# the profile names of 0.2: "default" becomes "us", with room for a site's own profiles.
from django.db import migrations, models


def default_to_us(apps, schema_editor):
    # Cases written before 0.2 say "default": the same rules are now called "us".
    CancellationCase = apps.get_model("graceful_cancel", "CancellationCase")
    CancellationCase.objects.filter(compliance_profile="default").update(compliance_profile="us")


def us_to_default(apps, schema_editor):
    CancellationCase = apps.get_model("graceful_cancel", "CancellationCase")
    CancellationCase.objects.filter(compliance_profile="us").update(compliance_profile="default")


class Migration(migrations.Migration):
    dependencies = [
        ("graceful_cancel", "0005_feedback_deliveries"),
    ]

    operations = [
        migrations.AlterField(
            model_name="cancellationcase",
            name="compliance_profile",
            field=models.CharField(
                choices=[
                    ("us", "US automatic-renewal laws"),
                    ("us-mn", "Minnesota: no offer before the cancellation is confirmed"),
                    ("de", "Germany: cancellation button (BGB section 312k)"),
                    ("fr", "France: termination in three clicks"),
                    ("eu", "EU: withdrawal function and a neutral cancellation page"),
                ],
                default="us",
                max_length=32,
                verbose_name="compliance profile",
            ),
        ),
        migrations.AddField(
            model_name="cancellationcase",
            name="jurisdiction",
            field=models.CharField(blank=True, max_length=10, verbose_name="jurisdiction"),
        ),
        migrations.AddField(
            model_name="cancellationcase",
            name="jurisdiction_source",
            field=models.CharField(
                blank=True,
                choices=[
                    ("billing", "Billing address"),
                    ("header", "Request header"),
                    ("default", "Site default"),
                ],
                max_length=16,
                verbose_name="jurisdiction from",
            ),
        ),
        migrations.RunPython(default_to_us, us_to_default, elidable=True),
    ]
