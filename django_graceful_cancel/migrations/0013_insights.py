# The private classifier's suggestions and trained models (issue 20, parts 3 and 4).
# Written by hand from makemigrations --dry-run (the 0.2 chain is fixed). As the chain's last
# migration it also holds the AlterField of caseevent.kind with every timeline event kind,
# "suggestion_accepted" and "suggestion_rejected" included (and "offer_question_declined", added
# by the us-mn offer question while this chain was written).
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("graceful_cancel", "0012_questions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TrainedClassifier",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "field",
                    models.CharField(
                        choices=[("reason", "Stated reason"), ("root_cause", "Root cause")],
                        max_length=16,
                        verbose_name="predicts the",
                    ),
                ),
                ("classifier", models.CharField(max_length=200, verbose_name="classifier")),
                ("payload", models.BinaryField(verbose_name="trained model")),
                ("labels", models.JSONField(default=list, verbose_name="labels")),
                ("examples", models.PositiveIntegerField(default=0, verbose_name="examples")),
                (
                    "site_examples",
                    models.PositiveIntegerField(
                        default=0, verbose_name="examples from the site's cases"
                    ),
                ),
                ("seconds", models.FloatField(default=0, verbose_name="training time (seconds)")),
                (
                    "trained_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="trained"),
                ),
            ],
            options={
                "verbose_name": "trained classifier",
                "verbose_name_plural": "trained classifiers",
                "ordering": ["-trained_at", "-pk"],
            },
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("started", "Case started"),
                    ("reason_recorded", "Reason recorded"),
                    ("offer_presented", "Offer presented"),
                    ("offer_accepted", "Offer accepted"),
                    ("offer_declined", "Offer declined"),
                    ("cancelled", "Cancellation confirmed"),
                    ("reactivated", "Reactivated"),
                    ("abandoned", "Abandoned"),
                    ("provider_synced", "Subscription provider updated"),
                    ("provider_sync_failed", "Subscription provider update failed"),
                    ("owner_assigned", "Owner assigned"),
                    ("root_cause_set", "Root cause set"),
                    ("note_added", "Staff note added"),
                    ("message_sent", "Message sent"),
                    ("message_status", "Message status changed"),
                    ("opted_out", "Customer opted out"),
                    ("survey_answered", "Survey answered"),
                    ("call_done", "Call done"),
                    ("disputed", "Customer said it was not them"),
                    ("erased", "Personal data erased"),
                    ("exported", "Personal data exported"),
                    ("save_checked", "Save checked"),
                    ("external_change", "Changed at the billing provider"),
                    ("followups_scheduled", "Follow-ups scheduled by staff"),
                    ("followups_cancelled", "Follow-ups cancelled by staff"),
                    ("fulfilment_assigned", "Offer task assigned"),
                    ("fulfilment_done", "Offer applied by staff"),
                    ("returned", "Customer came back"),
                    ("withdrawn", "Withdrawal received"),
                    ("refund_done", "Refund of the withdrawal done by staff"),
                    ("page_shown", "Page shown"),
                    ("evidence_exported", "Evidence record exported"),
                    ("pause_started", "Pause started"),
                    ("pause_extended", "Pause extended"),
                    ("pause_resumed", "Subscription resumed after a pause"),
                    ("pause_cancelled", "Cancelled during a pause"),
                    ("reach_out_created", "Personal outreach task created"),
                    ("reach_out_done", "Personal outreach done"),
                    ("questions_answered", "Follow-up questions answered"),
                    ("suggestion_accepted", "Classifier suggestion accepted"),
                    ("suggestion_rejected", "Classifier suggestion rejected"),
                    ("offer_question_declined", "Offer question declined"),
                ],
                max_length=32,
            ),
        ),
        migrations.CreateModel(
            name="Suggestion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "field",
                    models.CharField(
                        choices=[("reason", "Stated reason"), ("root_cause", "Root cause")],
                        max_length=16,
                        verbose_name="suggests the",
                    ),
                ),
                ("confidence", models.FloatField(verbose_name="confidence")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for staff"),
                            ("accepted", "Accepted by staff"),
                            ("rejected", "Rejected by staff"),
                        ],
                        default="pending",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("made_by", models.CharField(blank=True, max_length=200, verbose_name="made by")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="suggested"
                    ),
                ),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="decided")),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="suggestions",
                        to="graceful_cancel.cancellationcase",
                        verbose_name="case",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="decided by",
                    ),
                ),
                (
                    "suggested",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="graceful_cancel.reason",
                        verbose_name="suggestion",
                    ),
                ),
            ],
            options={
                "verbose_name": "classifier suggestion",
                "verbose_name_plural": "classifier suggestions",
                "ordering": ["-created_at"],
                "indexes": [
                    models.Index(fields=["status", "created_at"], name="gc_suggestion_status")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "pending")),
                        fields=("case", "field"),
                        name="gc_one_pending_suggestion",
                    )
                ],
            },
        ),
    ]
