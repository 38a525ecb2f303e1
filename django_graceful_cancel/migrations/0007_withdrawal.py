# The withdrawal function (CRD art. 11a): the Withdrawal model and the case's "withdrawn" status.
# Written by hand from makemigrations --dry-run (the 0.2 chain is fixed); the new timeline event
# kinds are in the AlterField of caseevent.kind that the chain's last migration (0013) holds.
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import django_graceful_cancel.models.cases
import django_graceful_cancel.models.withdrawals


class Migration(migrations.Migration):
    dependencies = [
        ("graceful_cancel", "0006_jurisdiction"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="cancellationcase",
            name="status",
            field=models.CharField(
                choices=[
                    ("open", "Open"),
                    ("saved", "Saved"),
                    ("cancelled", "Cancelled"),
                    ("reactivated", "Reactivated"),
                    ("abandoned", "Abandoned"),
                    ("withdrawn", "Withdrawn"),
                ],
                default="open",
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.CreateModel(
            name="Withdrawal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reference",
                    models.CharField(
                        default=django_graceful_cancel.models.cases.new_reference,
                        editable=False,
                        max_length=32,
                        unique=True,
                        verbose_name="reference",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("received", "Received"),
                            ("pending", "Waiting for the account holder or staff"),
                            ("withdrawn", "Withdrawn"),
                            ("recorded", "Recorded for staff"),
                        ],
                        default="received",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="name")),
                (
                    "email",
                    models.EmailField(max_length=254, verbose_name="email for the acknowledgement"),
                ),
                ("contract", models.CharField(blank=True, max_length=300, verbose_name="contract")),
                ("language", models.CharField(blank=True, max_length=16, verbose_name="language")),
                (
                    "time_zone",
                    models.CharField(blank=True, max_length=64, verbose_name="time zone"),
                ),
                (
                    "compliance_profile",
                    models.CharField(blank=True, max_length=16, verbose_name="compliance profile"),
                ),
                (
                    "received_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="received"
                    ),
                ),
                (
                    "signed_in",
                    models.BooleanField(default=False, verbose_name="sent while signed in"),
                ),
                (
                    "subscription_ref",
                    models.CharField(blank=True, max_length=255, verbose_name="subscription"),
                ),
                (
                    "staff_note",
                    models.TextField(
                        blank=True,
                        help_text="Set when not applied automatically.",
                        verbose_name="why staff must handle it",
                    ),
                ),
                (
                    "withdrawn_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="subscription ended"),
                ),
                (
                    "acknowledged_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="acknowledgement sent"
                    ),
                ),
                (
                    "refund_amount",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        help_text="What the billing backend reported; empty when it does not know.",
                        max_digits=12,
                        null=True,
                        verbose_name="refund amount",
                    ),
                ),
                (
                    "refund_currency",
                    models.CharField(blank=True, max_length=3, verbose_name="currency"),
                ),
                (
                    "refunded_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="refund done"),
                ),
                ("refund_note", models.TextField(blank=True, verbose_name="refund note")),
                (
                    "access_token",
                    models.CharField(
                        default=django_graceful_cancel.models.withdrawals.new_token,
                        editable=False,
                        max_length=64,
                        unique=True,
                    ),
                ),
                (
                    "client_hash",
                    models.CharField(blank=True, db_index=True, editable=False, max_length=64),
                ),
                (
                    "case",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="withdrawal",
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
                (
                    "refunded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="refund done by",
                    ),
                ),
            ],
            options={
                "verbose_name": "withdrawal",
                "verbose_name_plural": "withdrawals",
                "ordering": ["-received_at"],
                "indexes": [
                    models.Index(
                        fields=["status", "-received_at"], name="gc_withdrawal_status_idx"
                    ),
                    models.Index(fields=["email", "received_at"], name="gc_withdrawal_email_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "withdrawn")),
                        fields=("subscription_ref",),
                        name="gc_one_withdrawal_per_subscription",
                    )
                ],
            },
        ),
    ]
