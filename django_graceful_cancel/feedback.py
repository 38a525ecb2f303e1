"""Feedback routing: what customers say reaches the people the site names for it.

``GRACEFUL_CANCEL["FEEDBACK_ROUTES"]`` names, per reason slug or category, who hears it (email
addresses, staff groups) and how (``catalogue/routes.py``):

* ``"mode": "each"``: once the reason is recorded and committed, one email per case with the
  customer's own words, their plan and the case's link in the admin (``route_case``, connected to
  the ``reason_recorded`` signal by ``connect()``);
* ``"mode": "digest"``: a daily or weekly email with the period's count, outcomes, monthly revenue
  leaving and kept, and the customers' words (``send_digests``, run by the
  ``graceful_cancel_feedback_digest`` command or the ``graceful_cancel.send_feedback_digests``
  task).

Each delivery is a ``FeedbackDelivery`` row, unique per route and case (or route and period), so
nothing is sent twice; a send that fails stays pending and the next digest run retries it. The
message copy claims "your answer goes to the people who..." only for reasons with a route
(``rendering.py``), so the claim is true.

Staff read these emails in the site's language (``LANGUAGE_CODE``); they hold the customers'
words and case references, never names or addresses.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from . import signals
from .catalogue.defaults import REASON_COPY
from .catalogue.routes import Route, all_routes, routes_for
from .choices import CaseStatus, DeliveryStatus, EventKind
from .conf import app_settings
from .intervals import MONTHS_PER_UNIT, monthly_price
from .models import CancellationCase, CaseEvent, FeedbackDelivery
from .sites import absolute, site_name

logger = logging.getLogger("django_graceful_cancel")

#: Attempts at a failing send before the delivery is marked failed.
MAX_ATTEMPTS = 5
#: The longest quote of one customer a digest shows, and how many quotes at most.
DIGEST_WORDS_LENGTH = 500
DIGEST_WORDS_MAX = 100
#: Months in each billing interval, to show revenue per month (``intervals.MONTHS_PER_UNIT``).
MONTHS_PER_INTERVAL: dict[str, Decimal] = MONTHS_PER_UNIT
TEMPLATES = "django_graceful_cancel/feedback"


# --- recipients -------------------------------------------------------------------------------


def recipients_for(route: Route) -> list[str]:
    """The route's addresses and the emails of the active members of its groups."""
    found = list(route.to)
    if route.groups:
        members = (
            get_user_model()
            .objects.filter(groups__name__in=route.groups, is_active=True)
            .exclude(email="")
        )
        found += [member.email for member in members.distinct()]
    return list(dict.fromkeys(found))


# --- each case --------------------------------------------------------------------------------


def route_case(case: CancellationCase | int) -> list[FeedbackDelivery]:
    """Create and send the deliveries of a case's reason through its "each" routes (once per
    route, whatever the number of calls); returns the rows created now."""
    pk = case.pk if isinstance(case, CancellationCase) else case
    found = CancellationCase.objects.select_related("reason").filter(pk=pk).first()
    if found is None or found.reason is None:
        return []
    created: list[FeedbackDelivery] = []
    for route in routes_for(found.reason):
        if route.mode != "each":
            continue
        try:
            with transaction.atomic():
                delivery = FeedbackDelivery.objects.create(
                    route=route.key,
                    mode=FeedbackDelivery.Mode.EACH,
                    case=found,
                    cases=1,
                    recipients=recipients_for(route),
                )
        except IntegrityError:
            continue  # this case's answer already went (or is going) this way
        created.append(delivery)
    for delivery in created:
        send_delivery(delivery.pk)
    return created


def _on_reason_recorded(sender: Any, case: CancellationCase, **kwargs: Any) -> None:
    """``reason_recorded`` receiver: route the case once its change is committed."""
    if not routes_for(case.reason):
        return
    pk = case.pk
    transaction.on_commit(lambda: _route_safely(pk), robust=True)


def _route_safely(pk: int) -> None:
    try:
        route_case(pk)
    except Exception:
        # Never the customer's problem: the row (if written) stays pending for the next run.
        logger.exception("Feedback of case %s could not be routed now; the next run retries", pk)


def connect() -> None:
    """Route each case's feedback when its reason is recorded (called from ``AppConfig.ready``)."""
    signals.reason_recorded.connect(_on_reason_recorded, dispatch_uid="graceful_cancel_feedback")


# --- digests ----------------------------------------------------------------------------------


def digest_period(every: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last whole day ("daily") or week from Monday ("weekly") before ``now``, in the site's
    time zone: [start, end)."""
    local = timezone.localtime(now or timezone.now())
    end = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if every == "weekly":
        end -= timedelta(days=end.weekday())
        return end - timedelta(days=7), end
    return end - timedelta(days=1), end


@dataclass
class Digest:
    """The figures and words of one route's digest for one period."""

    route: Route
    start: datetime
    end: datetime
    cases: list[CancellationCase] = field(default_factory=list)
    by_reason: list[tuple[str, int]] = field(default_factory=list)
    by_status: list[tuple[str, int]] = field(default_factory=list)
    #: Monthly price of the cases that left and of those that stayed, per currency.
    leaving: dict[str, Decimal] = field(default_factory=dict)
    kept: dict[str, Decimal] = field(default_factory=dict)
    words: list[dict[str, str]] = field(default_factory=list)
    survey_count: int = 0
    survey_average: float | None = None
    survey_comments: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.cases)


def _monthly(case: CancellationCase) -> Decimal:
    return monthly_price(case.price or Decimal(0), case.billing_interval)


def _short(text: str) -> str:
    words = " ".join((text or "").split())
    if len(words) <= DIGEST_WORDS_LENGTH:
        return words
    return words[: DIGEST_WORDS_LENGTH - 1].rstrip() + "…"


def build_digest(route: Route, start: datetime, end: datetime) -> Digest:
    """The cases whose reason was recorded in [start, end) and that the route covers."""
    recorded = (
        CaseEvent.objects.filter(
            kind=EventKind.REASON_RECORDED, created_at__gte=start, created_at__lt=end
        )
        .values_list("case_id", flat=True)
        .distinct()
    )
    cases = [
        case
        for case in CancellationCase.objects.filter(pk__in=recorded)
        .select_related("reason")
        .order_by("created_at")
        if route.matches(case.reason)
    ]
    digest = Digest(route=route, start=start, end=end, cases=cases)
    reasons = Counter(case.reason.localized_label for case in cases if case.reason)
    digest.by_reason = reasons.most_common()
    statuses = Counter(str(CaseStatus(case.status).label) for case in cases)
    digest.by_status = statuses.most_common()
    leaving: dict[str, Decimal] = defaultdict(Decimal)
    kept: dict[str, Decimal] = defaultdict(Decimal)
    for case in cases:
        currency = case.currency or "?"
        if case.status == CaseStatus.CANCELLED:
            leaving[currency] += _monthly(case)
        elif case.status == CaseStatus.SAVED:
            kept[currency] += _monthly(case)
    digest.leaving = {k: v.quantize(Decimal("0.01")) for k, v in sorted(leaving.items())}
    digest.kept = {k: v.quantize(Decimal("0.01")) for k, v in sorted(kept.items())}
    digest.words = [
        {"words": _short(case.reason_detail), "plan": case.plan, "reference": case.reference}
        for case in cases
        if case.reason_detail.strip()
    ][:DIGEST_WORDS_MAX]
    answered = [case for case in cases if case.survey_score is not None]
    digest.survey_count = len(answered)
    if answered:
        digest.survey_average = round(
            sum(case.survey_score or 0 for case in answered) / len(answered), 1
        )
    digest.survey_comments = [
        _short(case.survey_comment) for case in answered if case.survey_comment.strip()
    ][:DIGEST_WORDS_MAX]
    return digest


def send_digests(
    *, every: str | None = None, now: datetime | None = None, dry_run: bool = False
) -> list[FeedbackDelivery]:
    """Send the digest of every "digest" route (only those sent ``every`` period, if given) for
    its last whole period, once; retry pending per-case deliveries first. Returns the digests
    created now (with ``dry_run``, unsaved rows: nothing is written or sent)."""
    if not dry_run:
        retry_pending()
    created: list[FeedbackDelivery] = []
    for route in all_routes():
        if route.mode != "digest" or (every and route.every != every):
            continue
        start, end = digest_period(route.every, now)
        if dry_run:
            digest = build_digest(route, start, end)
            created.append(
                FeedbackDelivery(
                    route=route.key,
                    mode=FeedbackDelivery.Mode.DIGEST,
                    period_start=start,
                    period_end=end,
                    cases=digest.count,
                    recipients=recipients_for(route),
                )
            )
            continue
        try:
            with transaction.atomic():
                delivery = FeedbackDelivery.objects.create(
                    route=route.key,
                    mode=FeedbackDelivery.Mode.DIGEST,
                    period_start=start,
                    period_end=end,
                    recipients=recipients_for(route),
                )
        except IntegrityError:
            continue  # this period's digest exists (sent, or pending and retried above)
        created.append(delivery)
        send_delivery(delivery.pk)
    return created


def retry_pending(*, older_than_seconds: int = 60, limit: int = 200) -> int:
    """Send again the deliveries a failure left pending (not the ones just created), and those
    whose sender died mid-send (``FOLLOWUP_SENDING_TIMEOUT_MINUTES``)."""
    now = timezone.now()
    stale = now - timedelta(minutes=app_settings.FOLLOWUP_SENDING_TIMEOUT_MINUTES)
    FeedbackDelivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=stale).update(
        status=DeliveryStatus.PENDING, last_error="interrupted while sending"
    )
    cutoff = now - timedelta(seconds=older_than_seconds)
    pks = list(
        FeedbackDelivery.objects.filter(status=DeliveryStatus.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in pks:
        send_delivery(pk)
    return len(pks)


# --- sending ----------------------------------------------------------------------------------


def _admin_link(case: CancellationCase) -> str:
    try:
        return absolute(reverse("admin:graceful_cancel_cancellationcase_change", args=[case.pk]))
    except NoReverseMatch:
        return ""


def _route_of(delivery: FeedbackDelivery) -> Route | None:
    return next((route for route in all_routes() if route.key == delivery.route), None)


def _told(reason: Any) -> bool:
    """Whether the shipped copy tells a customer with this reason who hears their answer."""
    return reason is not None and "routed" in REASON_COPY.get(reason.slug, {})


def render_delivery(delivery: FeedbackDelivery) -> tuple[str, str, dict[str, Any]]:
    """(subject, text, context) of a delivery, in the site's language."""
    route = _route_of(delivery) or Route(key=delivery.route, mode=delivery.mode)
    context: dict[str, Any] = {"route": route, "site_name": site_name(), "delivery": delivery}
    if delivery.mode == FeedbackDelivery.Mode.EACH:
        case = delivery.case
        assert case is not None
        context.update(
            case=case,
            reason=case.reason,
            words=" ".join(case.reason_detail.split()),
            admin_url=_admin_link(case),
            tenure_months=(case.tenure_days or 0) // 30,
            told=_told(case.reason),
        )
        kind = "case"
    else:
        assert delivery.period_start is not None and delivery.period_end is not None
        digest = build_digest(route, delivery.period_start, delivery.period_end)
        context["digest"] = digest
        context["last_day"] = delivery.period_end - timedelta(days=1)
        context["told"] = any(_told(case.reason) for case in digest.cases)
        kind = "digest"
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"{TEMPLATES}/{kind}_subject.txt", context)
        text = render_to_string(f"{TEMPLATES}/{kind}_message.txt", context)
    return " ".join(subject.split()), text.strip(), context


def send_delivery(pk: int) -> str:
    """Send one delivery if it is pending (safe to call twice); returns its status."""
    claimed = FeedbackDelivery.objects.filter(pk=pk, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, claimed_at=timezone.now()
    )
    delivery = FeedbackDelivery.objects.select_related("case", "case__reason").get(pk=pk)
    if not claimed:
        return delivery.status
    if not delivery.recipients:
        return _finish(delivery, DeliveryStatus.SKIPPED, "no recipients")
    try:
        subject, text, context = render_delivery(delivery)
        if delivery.mode == FeedbackDelivery.Mode.DIGEST:
            digest = context["digest"]
            FeedbackDelivery.objects.filter(pk=pk).update(cases=digest.count)
            if not digest.count:
                return _finish(delivery, DeliveryStatus.SKIPPED, "no feedback in the period")
        message = EmailMultiAlternatives(
            subject,
            text,
            app_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL,
            list(delivery.recipients),
        )
        # django-anymail reads these; other backends ignore them.
        message.tags = ["graceful-cancel-feedback"]  # type: ignore[attr-defined]
        message.metadata = {"feedback_delivery": str(pk), "route": delivery.route}  # type: ignore[attr-defined]
        message.send()
    except Exception as error:
        logger.exception("Feedback delivery %s failed", pk)
        status = (
            DeliveryStatus.FAILED if delivery.attempts >= MAX_ATTEMPTS else DeliveryStatus.PENDING
        )
        return _finish(delivery, status, repr(error))
    return _finish(delivery, DeliveryStatus.DELIVERED, "")


def _finish(delivery: FeedbackDelivery, status: str, error: str) -> str:
    FeedbackDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=status,
        last_error=error[:2000],
        sent_at=timezone.now() if status == DeliveryStatus.DELIVERED else None,
    )
    return status
