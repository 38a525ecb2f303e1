# The per-day rollups of the cases and their watermark (issue 19).
from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("graceful_cancel", "0010_pause_and_reach"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(db_index=True, verbose_name="day")),
                ("facet", models.CharField(max_length=16, verbose_name="facet")),
                ("status", models.CharField(max_length=16, verbose_name="status")),
                ("reason_id", models.BigIntegerField(null=True, verbose_name="reason")),
                ("root_cause_id", models.BigIntegerField(null=True, verbose_name="root cause")),
                ("offer_id", models.BigIntegerField(null=True, verbose_name="offer")),
                (
                    "offer_outcome",
                    models.CharField(blank=True, max_length=16, verbose_name="offer outcome"),
                ),
                ("channel", models.CharField(blank=True, max_length=16, verbose_name="channel")),
                ("plan", models.CharField(blank=True, max_length=200, verbose_name="plan")),
                ("currency", models.CharField(blank=True, max_length=3, verbose_name="currency")),
                (
                    "billing_interval",
                    models.CharField(blank=True, max_length=16, verbose_name="billing interval"),
                ),
                (
                    "survey_score",
                    models.PositiveSmallIntegerField(null=True, verbose_name="survey score"),
                ),
                (
                    "check_days",
                    models.PositiveSmallIntegerField(null=True, verbose_name="days after the save"),
                ),
                ("still_active", models.BooleanField(null=True, verbose_name="still active")),
                ("experiment_id", models.BigIntegerField(null=True, verbose_name="experiment")),
                ("variant_id", models.BigIntegerField(null=True, verbose_name="variant")),
                ("is_holdout", models.BooleanField(null=True, verbose_name="holdout")),
                ("cases", models.PositiveIntegerField(default=0, verbose_name="cases")),
                (
                    "price",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0"),
                        max_digits=16,
                        verbose_name="sum of prices",
                    ),
                ),
            ],
            options={
                "verbose_name": "daily rollup",
                "verbose_name_plural": "daily rollups",
                "indexes": [models.Index(fields=["facet", "day"], name="gc_rollup_facet_day_idx")],
            },
        ),
        migrations.CreateModel(
            name="RollupWatermark",
            fields=[
                ("name", models.CharField(max_length=32, primary_key=True, serialize=False)),
                ("last_event_id", models.BigIntegerField(default=0)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "rollup watermark",
                "verbose_name_plural": "rollup watermarks",
            },
        ),
    ]
