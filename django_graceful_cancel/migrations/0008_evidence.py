# The retained evidence record of a case (issue 16, part 4; services/evidence.py).
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("graceful_cancel", "0007_withdrawal"),
    ]

    operations = [
        migrations.CreateModel(
            name="EvidenceRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reference",
                    models.CharField(max_length=32, unique=True, verbose_name="reference"),
                ),
                ("case_started_at", models.DateTimeField(verbose_name="case started")),
                (
                    "confirmation",
                    models.JSONField(blank=True, default=dict, verbose_name="confirmation as sent"),
                ),
                ("snapshot", models.JSONField(blank=True, default=dict, verbose_name="snapshot")),
                (
                    "snapshot_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="snapshot taken"),
                ),
                ("retain_until", models.DateTimeField(verbose_name="kept until")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                (
                    "case",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="evidence_record",
                        to="graceful_cancel.cancellationcase",
                        verbose_name="case",
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="customer",
                    ),
                ),
            ],
            options={
                "verbose_name": "evidence record",
                "verbose_name_plural": "evidence records",
                "ordering": ["-case_started_at"],
                "indexes": [
                    models.Index(fields=["retain_until"], name="gc_evidence_retain_idx"),
                    models.Index(fields=["case_started_at"], name="gc_evidence_started_idx"),
                ],
            },
        ),
    ]
