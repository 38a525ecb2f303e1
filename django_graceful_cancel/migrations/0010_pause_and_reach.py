# Pauses with a lifecycle and the went-dark desk tasks (issue 17, parts 3 and 4).
# The new EventKind choices (pause_*, reach_out_*) only change CaseEvent.kind's choices: that
# AlterField is left to the last migration of the 0.2 chain, which collects every helper's kinds.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("graceful_cancel", "0009_returns"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Pause",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("subscription_ref", models.CharField(max_length=255, verbose_name="subscription")),
                ("state", models.CharField(choices=[("paused", "Paused"), ("resumed_early", "Resumed early"), ("resumed_on_schedule", "Resumed on schedule"), ("cancelled", "Cancelled during the pause")], default="paused", max_length=24, verbose_name="state")),
                ("starts_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="paused on")),
                ("ends_at", models.DateTimeField(verbose_name="resumes on")),
                ("extended_days", models.PositiveIntegerField(default=0, verbose_name="days added")),
                ("ended_at", models.DateTimeField(blank=True, null=True, verbose_name="ended")),
                ("via", models.CharField(blank=True, max_length=32, verbose_name="paused by")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="created")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                ("case", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="pauses", to="graceful_cancel.cancellationcase", verbose_name="case")),
                ("customer", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="customer")),
                ("presentation", models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="pause", to="graceful_cancel.offerpresentation", verbose_name="offer accepted")),
                ("reminder", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="graceful_cancel.followup", verbose_name="reminder")),
            ],
            options={
                "verbose_name": "pause",
                "verbose_name_plural": "pauses",
                "ordering": ["-starts_at", "-pk"],
                "indexes": [
                    models.Index(fields=["customer", "starts_at"], name="gc_pause_customer_idx"),
                    models.Index(condition=models.Q(("state", "paused")), fields=["ends_at"], name="gc_pause_due_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(condition=models.Q(("state", "paused")), fields=("subscription_ref",), name="graceful_cancel_one_running_pause"),
                ],
            },
        ),
        migrations.CreateModel(
            name="ReachOutTask",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("status", models.CharField(choices=[("open", "To reach"), ("done", "Done")], default="open", max_length=16, verbose_name="status")),
                ("channel", models.CharField(blank=True, choices=[("email", "Email"), ("sms", "SMS"), ("whatsapp", "WhatsApp"), ("phone", "Phone call")], max_length=16, verbose_name="channel to try")),
                ("tried", models.JSONField(blank=True, default=dict, verbose_name="already tried")),
                ("outcome", models.CharField(blank=True, choices=[("reached", "Reached: we talked"), ("came_back", "Reached: they are coming back"), ("no_answer", "No answer"), ("declined", "Did not want to talk")], max_length=16, verbose_name="outcome")),
                ("note", models.TextField(blank=True, max_length=5000, verbose_name="what we learnt")),
                ("done_at", models.DateTimeField(blank=True, null=True, verbose_name="done")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="created")),
                ("case", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="reach_out_task", to="graceful_cancel.cancellationcase", verbose_name="case")),
                ("done_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="done by")),
                ("owner", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="graceful_cancel_reach_out_tasks", to=settings.AUTH_USER_MODEL, verbose_name="owner")),
            ],
            options={
                "verbose_name": "customer to reach",
                "verbose_name_plural": "customers to reach",
                "ordering": ["status", "-created_at"],
                "indexes": [models.Index(fields=["status", "created_at"], name="gc_reach_queue_idx")],
            },
        ),
    ]
