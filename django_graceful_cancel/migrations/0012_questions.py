# Follow-up questions per reason and each case's answers (issue 20, part 1).
# Written by hand from makemigrations --dry-run (the 0.2 chain is fixed). The new timeline event
# kind is in the AlterField of caseevent.kind that the chain's last migration (0013) holds.
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("graceful_cancel", "0011_rollups"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReasonQuestion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("translations", models.JSONField(blank=True, default=dict)),
                (
                    "key",
                    models.SlugField(
                        help_text="Stable name used by exports, the API and the figures. Do not reuse it.",
                        max_length=64,
                        verbose_name="key",
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("choice", "Single choice"),
                            ("likelihood", "0 to 10: how likely to come back"),
                            ("text", "Short text"),
                        ],
                        max_length=16,
                        verbose_name="kind",
                    ),
                ),
                ("prompt", models.CharField(max_length=300, verbose_name="question")),
                (
                    "choices",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text='Single choice only: a list of {"key": "...", "label": "..."}. Translate the labels in translations: {"es": {"prompt": "...", "choices": {"key": "..."}}}.',
                        verbose_name="choices",
                    ),
                ),
                (
                    "max_length",
                    models.PositiveSmallIntegerField(
                        default=300,
                        help_text="Short text only: the most characters an answer may have.",
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(1000),
                        ],
                        verbose_name="longest answer",
                    ),
                ),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                ("order", models.PositiveIntegerField(default=0, verbose_name="order")),
                (
                    "reason",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="questions",
                        to="graceful_cancel.reason",
                        verbose_name="reason",
                    ),
                ),
            ],
            options={
                "verbose_name": "follow-up question",
                "verbose_name_plural": "follow-up questions",
                "ordering": ["order", "pk"],
            },
        ),
        migrations.CreateModel(
            name="QuestionAnswer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("question_key", models.SlugField(max_length=64, verbose_name="question key")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("choice", "Single choice"),
                            ("likelihood", "0 to 10: how likely to come back"),
                            ("text", "Short text"),
                        ],
                        max_length=16,
                        verbose_name="kind",
                    ),
                ),
                ("choice", models.CharField(blank=True, max_length=64, verbose_name="choice")),
                (
                    "score",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[django.core.validators.MaxValueValidator(10)],
                        verbose_name="score",
                    ),
                ),
                ("text", models.TextField(blank=True, verbose_name="text")),
                (
                    "answered_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="answered at"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="question_answers",
                        to="graceful_cancel.cancellationcase",
                        verbose_name="case",
                    ),
                ),
                (
                    "question",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="answers",
                        to="graceful_cancel.reasonquestion",
                        verbose_name="question",
                    ),
                ),
            ],
            options={
                "verbose_name": "follow-up answer",
                "verbose_name_plural": "follow-up answers",
                "ordering": ["case", "pk"],
            },
        ),
        migrations.AddConstraint(
            model_name="reasonquestion",
            constraint=models.UniqueConstraint(
                fields=("reason", "key"), name="graceful_cancel_question_key_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="questionanswer",
            constraint=models.UniqueConstraint(
                fields=("case", "question"), name="graceful_cancel_answer_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="questionanswer",
            constraint=models.CheckConstraint(
                condition=models.Q(("score__isnull", True), ("score__lte", 10), _connector="OR"),
                name="graceful_cancel_answer_score_range",
            ),
        ),
    ]
