"""Per-day aggregates of the cases, read by the summary API, the dashboard and the report.

One row counts the cases started on one day (in the site's ``TIME_ZONE``) that share the
dimensions of one facet (``services.rollups.FACETS``: status; reason and root cause; offer,
outcome, status, interval and currency; survey score; channel, plan, currency and interval).
Reading figures for a range then costs rows per day, not cases. ``services.rollups`` keeps them
up to date: the days of the cases changed since ``RollupWatermark`` are recomputed from them.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyRollup(models.Model):
    day = models.DateField(_("day"), db_index=True)
    #: Which dimensions the row counts by (``services.rollups.FACETS``); the others are empty.
    facet = models.CharField(_("facet"), max_length=16)
    status = models.CharField(_("status"), max_length=16)
    # Plain ids, not foreign keys: a rollup row outlives nothing and must not cascade.
    reason_id = models.BigIntegerField(_("reason"), null=True)
    root_cause_id = models.BigIntegerField(_("root cause"), null=True)
    offer_id = models.BigIntegerField(_("offer"), null=True)
    offer_outcome = models.CharField(_("offer outcome"), max_length=16, blank=True)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    plan = models.CharField(_("plan"), max_length=200, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    billing_interval = models.CharField(_("billing interval"), max_length=16, blank=True)
    survey_score = models.PositiveSmallIntegerField(_("survey score"), null=True)
    check_days = models.PositiveSmallIntegerField(_("days after the save"), null=True)
    still_active = models.BooleanField(_("still active"), null=True)
    experiment_id = models.BigIntegerField(_("experiment"), null=True)
    variant_id = models.BigIntegerField(_("variant"), null=True)
    is_holdout = models.BooleanField(_("holdout"), null=True)
    cases = models.PositiveIntegerField(_("cases"), default=0)
    price = models.DecimalField(
        _("sum of prices"), max_digits=16, decimal_places=2, default=Decimal(0)
    )

    class Meta:
        verbose_name = _("daily rollup")
        indexes = [models.Index(fields=["facet", "day"], name="gc_rollup_facet_day_idx")]
        verbose_name_plural = _("daily rollups")

    def __str__(self) -> str:
        return f"{self.day} {self.status}: {self.cases}"


class RollupWatermark(models.Model):
    """The last timeline event whose case's day the rollups already count."""

    name = models.CharField(max_length=32, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rollup watermark")
        verbose_name_plural = _("rollup watermarks")

    def __str__(self) -> str:
        return f"{self.name}: {self.last_event_id}"
