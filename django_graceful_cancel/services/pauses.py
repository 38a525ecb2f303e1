"""A pause with a life: it starts, it may be extended, and it ends resumed early, resumed on
schedule or cancelled (docs/pause.md).

* ``start_pause`` runs inside ``accept_offer``'s transaction when the subscription backend applied
  a pause offer (its ``applied`` says ``paused_until``): the ``Pause`` row and its reminder.
* The reminder is a follow-up row (template ``pause_reminder``), due ``PAUSE_REMINDER_DAYS``
  before the end, on the case's channel, under the follow-up respect rules (opt-outs, quiet
  hours, one message a day; ``followups/respect.py`` refuses it once the pause is over). Its
  signed one-click links (``reminder_links``): resume now, extend (within the limits) and cancel
  (the normal flow).
* ``resume_pause`` and ``extend_pause`` are the customer's; ``sweep_pauses`` (the
  ``graceful_cancel_pauses`` command, the ``graceful_cancel.sweep_pauses`` task) ends the pauses
  whose date has come; ``record_external_resume`` is Stripe's ``customer.subscription.resumed``;
  ``record_pause_cancelled`` runs when the subscription is cancelled while paused.

Each change is one transaction: the case row locked, the pause row locked, the backend asked
(``resume_pause``, ``extend_pause``, ``finish_pause``), one timeline event on the pause's case and
one signal. Limits: ``PAUSE_MAX_PER_YEAR`` pauses per customer in 365 days (the offer policy
stops offering pauses past it, ``pause_limit_reached``) and ``PAUSE_MAX_DAYS`` per pause
(``extend_pause`` refuses more, with a field error on ``days``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from .. import signals
from ..backends import get_backend
from ..choices import EventKind, FollowUpStatus, OfferKind, PauseState
from ..conf import app_settings
from ..exceptions import BackendError, InvalidInput, InvalidTransition, OfferNotApplicable
from ..models import CancellationCase, CaseEvent, FollowUp, OfferPresentation, Pause, RetentionOffer
from ..sites import absolute
from .core import Actor, lock_case, record

logger = logging.getLogger("django_graceful_cancel")

#: The message template of the reminder (``messages/pause_reminder/``).
REMINDER_TEMPLATE = "pause_reminder"
#: Signing salts of the reminder's links, one per purpose: a resume link never extends.
RESUME, EXTEND = "resume", "extend"
_SALTS = {
    RESUME: "django_graceful_cancel.pause.resume",
    EXTEND: "django_graceful_cancel.pause.extend",
}
#: Extensions the extend page offers, in days (those past ``PAUSE_MAX_DAYS`` are left out).
EXTEND_CHOICES = (7, 14, 30)
#: A provider's "resumed" this close to the end counts as resumed on schedule.
ON_SCHEDULE_SLACK = timedelta(hours=12)


class InvalidPauseLink(Exception):
    """The link was tampered with, expired or made for another purpose."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "expired" or "invalid"


# --- limits ------------------------------------------------------------------------------------


def offer_days(offer: RetentionOffer) -> int:
    """The days a pause offer lasts ("days", else 30 per "months"); 0 when unreadable."""
    params = offer.parameters if isinstance(offer.parameters, dict) else {}
    try:
        days = int(params.get("days") or 30 * int(params.get("months") or 1))
    except (TypeError, ValueError):
        return 0
    return max(days, 0)


def pause_limit_reached(customer_id: int | None, *, now: datetime | None = None) -> bool:
    """Whether the customer took ``PAUSE_MAX_PER_YEAR`` pauses in the last 365 days (one
    indexed query; never for a customer we cannot count, nor without a limit)."""
    limit = app_settings.PAUSE_MAX_PER_YEAR
    if limit is None or customer_id is None:
        return False
    since = (now or timezone.now()) - timedelta(days=365)
    taken = Pause.objects.filter(customer_id=customer_id, starts_at__gte=since)[:limit].count()
    return taken >= int(limit)


def too_long(days: int) -> bool:
    """Whether a pause of ``days`` breaks ``PAUSE_MAX_DAYS``."""
    limit = app_settings.PAUSE_MAX_DAYS
    return limit is not None and days > int(limit)


def check_pause_offer(case: CancellationCase, offer: RetentionOffer) -> None:
    """Raise ``OfferNotApplicable`` when accepting this pause offer now breaks a limit (another
    pause was taken since it was shown); nothing else is checked here."""
    if offer.kind != OfferKind.PAUSE:
        return
    if too_long(offer_days(offer)) or pause_limit_reached(case.customer_id):
        raise OfferNotApplicable(
            str(
                _(
                    "You have already paused as often as we can offer, so nothing was changed. "
                    "You can keep your subscription as it is, or cancel it."
                )
            ),
            code="pause_limit_reached",
        )


# --- starting ----------------------------------------------------------------------------------


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return parse_datetime(value)
        except ValueError:
            return None
    return None


def start_pause(
    case: CancellationCase, presentation: OfferPresentation, *, actor: Actor = None
) -> Pause | None:
    """Record the pause an accepted pause offer started; call inside the accept transaction,
    after the case's follow-ups were stopped. None when the offer is not a pause, or its route
    did not say when it ends (a desk task or a hook: staff record nothing here)."""
    if presentation.offer.kind != OfferKind.PAUSE:
        return None
    applied = presentation.applied if isinstance(presentation.applied, dict) else {}
    ends_at = _moment(applied.get("paused_until") or applied.get("resumes_at"))
    if ends_at is None:
        return None
    now = timezone.now()
    pause = Pause.objects.create(
        case=case,
        presentation=presentation,
        customer_id=case.customer_id,
        subscription_ref=case.subscription_ref,
        starts_at=now,
        ends_at=ends_at,
        via=str(applied.get("pause_mode") or applied.get("applied_by") or "backend")[:32],
    )
    _schedule_reminder(case, pause)
    record(
        case,
        EventKind.PAUSE_STARTED,
        signals.pause_started,
        actor=actor,
        data={"pause": pause.pk, "ends_at": ends_at.isoformat(), "via": pause.via},
        pause=pause,
    )
    return pause


def _schedule_reminder(case: CancellationCase, pause: Pause) -> FollowUp | None:
    """The reminder row, due ``PAUSE_REMINDER_DAYS`` before the end; none when that moment has
    passed already (the customer has just been told the date) or the case lost its customer."""
    from ..followups.sequences import Step, resolve_channel

    due = pause.ends_at - timedelta(days=int(app_settings.PAUSE_REMINDER_DAYS))
    if due <= timezone.now() or case.customer_id is None:
        return None
    # One row per (case, stage): the stage names the pause and how far it was extended, so an
    # extension gets a reminder of its own.
    stage = f"pause_{pause.pk}_{pause.extended_days}"[:32]
    # The reminder is about money leaving the customer's account again: it goes to everyone who
    # paused, on their channel (email without consent to other channels).
    channel = resolve_channel(case, Step(stage=stage, days=0, channel="preferred"))
    row = FollowUp.objects.create(
        case=case,
        customer_id=case.customer_id,
        stage=stage,
        template=REMINDER_TEMPLATE,
        channel=channel,
        due_at=due,
    )
    Pause.objects.filter(pk=pause.pk).update(reminder=row, updated_at=timezone.now())
    pause.reminder = row
    return row


def _drop_reminder(pause: Pause, why: str) -> None:
    if pause.reminder_id is not None:
        FollowUp.objects.filter(pk=pause.reminder_id, status=FollowUpStatus.SCHEDULED).update(
            status=FollowUpStatus.CANCELLED, last_error=why[:500], updated_at=timezone.now()
        )


# --- the customer's moves ----------------------------------------------------------------------


def _lock(pause: Pause | int) -> tuple[Pause, CancellationCase]:
    pk = pause.pk if isinstance(pause, Pause) else pause
    case_pk = Pause.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_pk is None:
        raise InvalidTransition(code="no_pause")
    case = lock_case(case_pk)  # the case first, as every service locks
    return Pause.objects.select_for_update().get(pk=pk), case


def _lifecycle_backend() -> Any:
    """The backend, when it can resume early and extend; else a permanent ``BackendError`` (the
    reminder shows no such link then, but an old or crafted one must not reach a 500)."""
    backend = get_backend()
    if not backend.capabilities().pause_lifecycle:
        raise BackendError(
            str(_("This pause cannot be changed online. Please contact us and we will help.")),
            code="pause_not_supported",
            transient=False,
        )
    return backend


def _end(pause: Pause, state: str, now: datetime) -> None:
    Pause.objects.filter(pk=pause.pk).update(state=state, ended_at=now, updated_at=now)
    pause.state, pause.ended_at = state, now
    _drop_reminder(pause, state)


def resume_pause(pause: Pause | int, *, actor: Actor = None) -> Pause:
    """The customer resumes now: the backend restarts billing, the reminder is dropped.

    Raises ``InvalidTransition("pause_not_running")`` for a pause already over and
    ``BackendError`` when the backend refuses (nothing changes then)."""
    with transaction.atomic():
        pause, case = _lock(pause)
        if pause.state != PauseState.PAUSED:
            raise InvalidTransition(code="pause_not_running")
        done = _lifecycle_backend().resume_pause(pause.subscription_ref, case=case, pause=pause)
        done = done or {}
        now = timezone.now()
        unused = max((pause.ends_at - now).days, 0)
        _end(pause, PauseState.RESUMED_EARLY, now)
        record(
            case,
            EventKind.PAUSE_RESUMED,
            signals.pause_resumed,
            actor=actor,
            data={"pause": pause.pk, "early": True, "days_unused": unused, "applied": done},
            pause=pause,
            early=True,
        )
    return pause


def extend_pause(pause: Pause | int, *, days: Any, actor: Actor = None) -> Pause:
    """Add ``days`` to a running pause, within ``PAUSE_MAX_DAYS`` counted from its start.

    Raises ``InvalidInput`` on ``days`` (not a positive whole number, or past the limit),
    ``InvalidTransition("pause_not_running")`` for a pause already over, ``BackendError`` when
    the backend refuses."""
    try:
        added = int(days)
    except (TypeError, ValueError):
        added = 0
    if added <= 0 or isinstance(days, bool):
        raise InvalidInput.single(
            "days", "invalid_days", _("Choose how many days to add to your pause.")
        )
    with transaction.atomic():
        pause, case = _lock(pause)
        if pause.state != PauseState.PAUSED:
            raise InvalidTransition(code="pause_not_running")
        ends_at = pause.ends_at + timedelta(days=added)
        if too_long((ends_at - pause.starts_at).days):
            raise InvalidInput.single(
                "days",
                "pause_too_long",
                _("A pause can last at most %(days)s days in all.")
                % {"days": app_settings.PAUSE_MAX_DAYS},
            )
        done = _lifecycle_backend().extend_pause(
            pause.subscription_ref, case=case, pause=pause, ends_at=ends_at
        )
        _drop_reminder(pause, "extended")
        pause.ends_at = ends_at
        pause.extended_days += added
        pause.save(update_fields=["ends_at", "extended_days", "updated_at"])
        _schedule_reminder(case, pause)
        record(
            case,
            EventKind.PAUSE_EXTENDED,
            signals.pause_extended,
            actor=actor,
            data={
                "pause": pause.pk,
                "days": added,
                "ends_at": ends_at.isoformat(),
                "applied": done or {},
            },
            pause=pause,
            days=added,
        )
    return pause


def extend_choices(pause: Pause) -> list[int]:
    """The extensions the customer may choose now (days), within ``PAUSE_MAX_DAYS``."""
    if pause.state != PauseState.PAUSED:
        return []
    used = (pause.ends_at - pause.starts_at).days
    return [days for days in EXTEND_CHOICES if not too_long(used + days)]


# --- ending by itself, or at the provider ------------------------------------------------------


def finish_pause(pause: Pause | int, *, actor: Actor = "system") -> Pause:
    """End a pause whose date has come (idempotent: one already over is returned as it is)."""
    with transaction.atomic():
        pause, case = _lock(pause)
        if pause.state != PauseState.PAUSED or pause.ends_at > timezone.now():
            return pause
        done = get_backend().finish_pause(pause.subscription_ref, case=case, pause=pause) or {}
        _end(pause, PauseState.RESUMED_ON_SCHEDULE, timezone.now())
        record(
            case,
            EventKind.PAUSE_RESUMED,
            signals.pause_resumed,
            actor=actor,
            data={"pause": pause.pk, "early": False, "applied": done},
            pause=pause,
            early=False,
        )
    return pause


def sweep_pauses(*, batch_size: int = 200, max_batches: int = 50) -> int:
    """End the running pauses whose date has come, in bounded batches; returns how many.

    A pause the backend fails to resume (``BackendError``) stays running and is tried again by
    the next sweep."""
    done = 0
    failed: set[int] = set()
    for _batch in range(max_batches):
        pks = list(
            Pause.objects.filter(state=PauseState.PAUSED, ends_at__lte=timezone.now())
            .exclude(pk__in=failed)
            .order_by("ends_at", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not pks:
            break
        for pk in pks:
            try:
                if finish_pause(pk).state == PauseState.RESUMED_ON_SCHEDULE:
                    done += 1
            except BackendError as error:
                failed.add(pk)
                logger.warning("Pause %s could not be resumed; retried next sweep: %s", pk, error)
    return done


def due_pauses() -> int:
    """Running pauses whose date has come (the command's ``--watch`` asks)."""
    return Pause.objects.filter(state=PauseState.PAUSED, ends_at__lte=timezone.now()).count()


def _seen(case: CancellationCase, event_id: str) -> bool:
    return bool(event_id) and CaseEvent.objects.filter(case=case, data__event_id=event_id).exists()


def record_external_resume(
    subscription_ref: str, *, source: str = "stripe", event_id: str = "", actor: Actor = None
) -> Pause | None:
    """The provider says the paused subscription runs again (Stripe's
    ``customer.subscription.resumed``, or ``pause_collection`` removed). The running pause ends:
    on schedule when its date has (nearly) come, else early. Idempotent on ``event_id``; None
    when no pause was running (the echo of our own resume)."""
    running = Pause.objects.filter(subscription_ref=subscription_ref, state=PauseState.PAUSED)
    pk = running.values_list("pk", flat=True).first()
    if pk is None:
        return None
    with transaction.atomic():
        pause, case = _lock(pk)
        if pause.state != PauseState.PAUSED or _seen(case, event_id):
            return pause
        now = timezone.now()
        early = pause.ends_at - ON_SCHEDULE_SLACK > now
        _end(pause, PauseState.RESUMED_EARLY if early else PauseState.RESUMED_ON_SCHEDULE, now)
        record(
            case,
            EventKind.PAUSE_RESUMED,
            signals.pause_resumed,
            actor=actor if actor is not None else source,
            data={"pause": pause.pk, "early": early, "source": source, "event_id": event_id},
            pause=pause,
            early=early,
        )
    return pause


def record_pause_cancelled(
    subscription_ref: str,
    *,
    cancelled_case: CancellationCase | None = None,
    actor: Actor = None,
    event_id: str = "",
) -> Pause | None:
    """The subscription was cancelled while paused: the pause ends as "cancelled" and its
    reminder is dropped (the cancellation's own messages take over). None when none ran."""
    pk = (
        Pause.objects.filter(subscription_ref=subscription_ref, state=PauseState.PAUSED)
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        return None
    with transaction.atomic():
        pause, case = _lock(pk)
        if pause.state != PauseState.PAUSED:
            return pause
        _end(pause, PauseState.CANCELLED, timezone.now())
        record(
            case,
            EventKind.PAUSE_CANCELLED,
            signals.pause_cancelled,
            actor=actor,
            data={
                "pause": pause.pk,
                "cancelled_case": cancelled_case.reference if cancelled_case else None,
                "event_id": event_id,
            },
            pause=pause,
            cancelled_case=cancelled_case,
        )
    return pause


def on_case_cancelled(sender: Any = None, case: Any = None, **kwargs: Any) -> None:
    """Receiver of ``signals.case_cancelled`` (connected in ``AppConfig.ready``): a
    cancellation of a paused subscription ends its pause as "cancelled"."""
    if case is None or not getattr(case, "subscription_ref", ""):
        return
    try:
        record_pause_cancelled(
            case.subscription_ref, cancelled_case=case, actor=kwargs.get("actor")
        )
    except IntegrityError:  # pragma: no cover - a concurrent change won
        logger.info("Pause of %s changed concurrently; left as it is.", case.subscription_ref)


# --- the reminder's links ----------------------------------------------------------------------


def make_token(purpose: str, pause: Pause) -> str:
    return signing.dumps({"p": pause.pk}, salt=_SALTS[purpose], compress=True)


def read_token(purpose: str, token: str) -> Pause:
    """The pause a link names; raises ``InvalidPauseLink``. Links work ``LINK_MAX_AGE_DAYS``."""
    max_age = int(app_settings.LINK_MAX_AGE_DAYS) * 86400
    try:
        data = signing.loads(token, salt=_SALTS[purpose], max_age=max_age)
    except signing.SignatureExpired as error:
        raise InvalidPauseLink("expired") from error
    except signing.BadSignature as error:
        raise InvalidPauseLink("invalid") from error
    pk = data.get("p") if isinstance(data, dict) else None
    pause = (
        Pause.objects.select_related("case", "case__customer").filter(pk=pk).first()
        if isinstance(pk, int)
        else None
    )
    if pause is None:
        raise InvalidPauseLink("invalid")
    return pause


@dataclass(frozen=True)
class ReminderLinks:
    """What the reminder shows: the date it resumes and the one-click links that work for it
    ("" for a link nobody could honour: no extension left, or a backend that cannot resume)."""

    pause: Pause
    ends_at: datetime
    resume_url: str
    extend_url: str
    cancel_url: str


def reminder_links(pause: Pause) -> ReminderLinks:
    """The reminder's links: resume and extend only when the backend can do them (and extend
    only while the limit leaves room); cancel is always there, the normal flow's first page."""
    lifecycle = get_backend().capabilities().pause_lifecycle
    resume = ""
    extend = ""
    if lifecycle and pause.state == PauseState.PAUSED:
        resume = absolute(reverse("graceful_cancel:pause_resume", args=[make_token(RESUME, pause)]))
        if extend_choices(pause):
            extend = absolute(
                reverse("graceful_cancel:pause_extend", args=[make_token(EXTEND, pause)])
            )
    return ReminderLinks(
        pause=pause,
        ends_at=pause.ends_at,
        resume_url=resume,
        extend_url=extend,
        cancel_url=absolute(reverse("graceful_cancel:start")),
    )


def pause_for_reminder(followup: FollowUp | None) -> Pause | None:
    """The pause a reminder row belongs to."""
    if followup is None or followup.pk is None:
        return None
    return Pause.objects.filter(reminder_id=followup.pk).select_related("case").first()
