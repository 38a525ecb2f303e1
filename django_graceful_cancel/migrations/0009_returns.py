# Returns after the end and the win-back holdout (issue 17): CaseReturn and WinbackArm.
# Written by hand from makemigrations --dry-run (the 0.2 chain is fixed). The new timeline event
# kind ("returned") is in the AlterField of caseevent.kind that the chain's last migration holds.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

OPERATIONS = [
    migrations.CreateModel(
        name="CaseReturn",
        fields=[
            (
                "id",
                models.BigAutoField(
                    auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                ),
            ),
            (
                "status",
                models.CharField(
                    choices=[("pending", "Checkout started"), ("returned", "Came back")],
                    default="pending",
                    max_length=16,
                    verbose_name="status",
                ),
            ),
            (
                "method",
                models.CharField(
                    choices=[
                        ("subscription", "New subscription on the saved payment method"),
                        ("checkout", "Checkout page of the billing provider"),
                        ("hook", "The site's resubscribe hook"),
                        ("redirect", "The site's own sign-up page"),
                    ],
                    max_length=16,
                    verbose_name="how",
                ),
            ),
            ("source", models.CharField(blank=True, max_length=16, verbose_name="link in")),
            (
                "channel",
                models.CharField(
                    blank=True,
                    choices=[
                        ("email", "Email"),
                        ("sms", "SMS"),
                        ("whatsapp", "WhatsApp"),
                        ("phone", "Phone call"),
                    ],
                    max_length=16,
                    verbose_name="channel",
                ),
            ),
            (
                "amount",
                models.DecimalField(
                    decimal_places=2, max_digits=12, null=True, verbose_name="price"
                ),
            ),
            (
                "offer_amount",
                models.DecimalField(
                    blank=True,
                    decimal_places=2,
                    max_digits=12,
                    null=True,
                    verbose_name="first charge with the offer",
                ),
            ),
            ("currency", models.CharField(blank=True, max_length=3, verbose_name="currency")),
            (
                "interval",
                models.CharField(blank=True, max_length=16, verbose_name="billing interval"),
            ),
            (
                "first_charge_at",
                models.DateTimeField(blank=True, null=True, verbose_name="first charge"),
            ),
            (
                "subscription_ref",
                models.CharField(blank=True, max_length=255, verbose_name="new subscription"),
            ),
            (
                "checkout_ref",
                models.CharField(blank=True, max_length=255, verbose_name="checkout session"),
            ),
            (
                "started_at",
                models.DateTimeField(default=django.utils.timezone.now, verbose_name="confirmed"),
            ),
            (
                "returned_at",
                models.DateTimeField(blank=True, null=True, verbose_name="came back"),
            ),
            (
                "case",
                models.OneToOneField(
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="case_return",
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
                "followup",
                models.ForeignKey(
                    blank=True,
                    null=True,
                    on_delete=django.db.models.deletion.SET_NULL,
                    related_name="+",
                    to="graceful_cancel.followup",
                    verbose_name="message",
                ),
            ),
            (
                "offer",
                models.ForeignKey(
                    blank=True,
                    null=True,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="returns",
                    to="graceful_cancel.retentionoffer",
                    verbose_name="win-back offer",
                ),
            ),
        ],
        options={
            "verbose_name": "return",
            "verbose_name_plural": "returns",
            "indexes": [
                models.Index(fields=["status", "returned_at"], name="gc_return_status_idx"),
                models.Index(fields=["checkout_ref"], name="gc_return_checkout_idx"),
            ],
        },
    ),
    migrations.CreateModel(
        name="WinbackArm",
        fields=[
            (
                "id",
                models.BigAutoField(
                    auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                ),
            ),
            ("is_holdout", models.BooleanField(default=False, verbose_name="held out")),
            (
                "holdout_percent",
                models.PositiveSmallIntegerField(default=0, verbose_name="holdout share (%)"),
            ),
            (
                "assigned_at",
                models.DateTimeField(default=django.utils.timezone.now, verbose_name="assigned"),
            ),
            (
                "case",
                models.OneToOneField(
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="winback_arm",
                    to="graceful_cancel.cancellationcase",
                    verbose_name="case",
                ),
            ),
            (
                "offer",
                models.ForeignKey(
                    blank=True,
                    null=True,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="winback_arms",
                    to="graceful_cancel.retentionoffer",
                    verbose_name="win-back offer",
                ),
            ),
        ],
        options={
            "verbose_name": "win-back arm",
            "verbose_name_plural": "win-back arms",
            "indexes": [
                models.Index(fields=["is_holdout", "assigned_at"], name="gc_winback_arm_idx")
            ],
        },
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("graceful_cancel", "0008_evidence"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = OPERATIONS
