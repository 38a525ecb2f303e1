"""Suggestions: what the classifier reads in a case's words, and the staff decisions on them.

Writing a suggestion changes nothing on the case: it is a row staff see on the desk. Only
``accept_suggestion``, called with the staff member who accepted it, changes the case (the root
cause through ``services.set_root_cause``, or the stated reason), in a transaction with a
timeline event and a signal, like every other change (services/core.py). ``reject_suggestion``
records the decision the same way. Nothing here sends the words anywhere: the configured
classifier runs in this process (unless the site plugged in one that does; docs/insights.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import signals
from ..choices import EventKind
from ..conf import app_settings
from ..exceptions import InvalidTransition
from ..models import CancellationCase, Suggestion
from ..models.catalogue_cache import active_reasons
from ..models.insights import SuggestionField, SuggestionStatus
from ..services.cases import set_root_cause
from ..services.core import Actor, lock_case, record
from .seed_set import UNLEARNT
from .training import current

#: Cases read per prediction batch (bounds memory on a big backlog).
BATCH = 500


def candidates(field: str) -> QuerySet[CancellationCase]:
    """Cases with free text the classifier may advise on for ``field``: no suggestion for it yet
    (a rejected one is not asked again), and for the reason, only when the customer chose
    "other" or none."""
    cases = (
        CancellationCase.objects.exclude(reason_detail="")
        .exclude(subscription_ref__startswith="erased:")
        .exclude(suggestions__field=field)
    )
    if field == SuggestionField.REASON:
        return cases.filter(Q(reason__isnull=True) | Q(reason__slug="other"))
    return cases.filter(root_cause__isnull=True)


def suggest(cases: Iterable[int] | None = None, *, limit: int = 5000) -> int:
    """Write suggestions for the candidate cases (all, or those with these pks); returns how many.

    Does nothing while the classifier is off or untrained. Suggestions below
    ``INSIGHTS_MIN_CONFIDENCE`` are not written. Idempotent: a case gets at most one suggestion
    per field.
    """
    created = 0
    choices = [slug for slug in active_reasons() if slug not in UNLEARNT]
    threshold = float(app_settings.INSIGHTS_MIN_CONFIDENCE)
    for field in (SuggestionField.REASON, SuggestionField.ROOT_CAUSE):
        found = current(field)
        if found is None or not choices:
            continue
        classifier, made_by = found
        query = candidates(field)
        if cases is not None:
            query = query.filter(pk__in=list(cases))
        rows = list(query.order_by("-created_at").values_list("pk", "reason_detail")[:limit])
        reasons = active_reasons()
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            predictions = classifier.predict([text for _, text in batch], choices=choices)
            new = [
                Suggestion(
                    case_id=pk,
                    field=field,
                    suggested=reasons[prediction.label],
                    confidence=round(prediction.confidence, 4),
                    made_by=made_by[:200],
                )
                for (pk, _), prediction in zip(batch, predictions, strict=True)
                if prediction is not None
                and prediction.label in reasons
                and prediction.confidence >= threshold
            ]
            # ignore_conflicts: a concurrent run that wrote the same case's suggestion first
            # wins (one pending suggestion per case and field, a database constraint).
            Suggestion.objects.bulk_create(new, ignore_conflicts=True)
            created += len(new)
    return created


def _require_staff(actor: Actor) -> None:
    # The whole point: a suggestion is applied by a person, never by the system or a task.
    if not (getattr(actor, "pk", None) and getattr(actor, "is_staff", False)):
        raise InvalidTransition(
            _("Only a staff member can decide on a suggestion."), code="staff_only"
        )


def _lock_pending(suggestion: Suggestion | int) -> Suggestion:
    pk = suggestion.pk if isinstance(suggestion, Suggestion) else suggestion
    locked = Suggestion.objects.select_for_update().select_related("suggested").get(pk=pk)
    if locked.status != SuggestionStatus.PENDING:
        raise InvalidTransition(
            _("This suggestion was already decided."), code="suggestion_decided"
        )
    return locked


def accept_suggestion(suggestion: Suggestion | int, *, actor: Actor) -> Suggestion:
    """Apply the suggestion to its case, on a staff member's decision.

    Root cause: through ``set_root_cause`` (its event and signal), keeping staff's notes. Stated
    reason: only while the customer's reason is still "other" or none. Both also record the
    ``suggestion_accepted`` event and signal.
    """
    _require_staff(actor)
    with transaction.atomic():
        found = _lock_pending(suggestion)
        case = lock_case(found.case_id)
        reason = found.suggested
        if not reason.is_active:
            raise InvalidTransition(
                _("The suggested reason is no longer in the catalogue."), code="reason_inactive"
            )
        if found.field == SuggestionField.ROOT_CAUSE:
            previous = case.root_cause.slug if case.root_cause else None
            case = set_root_cause(case, reason, detail=case.root_cause_detail, actor=actor)
        else:
            previous = case.reason.slug if case.reason else None
            if previous not in (None, "other"):
                raise InvalidTransition(
                    _("The customer chose a reason themselves; it is kept."),
                    code="reason_already_chosen",
                )
            case.reason = reason
            case.save(update_fields=["reason", "updated_at"])
        _decide(found, SuggestionStatus.ACCEPTED, actor)
        record(
            case,
            EventKind.SUGGESTION_ACCEPTED,
            signals.suggestion_accepted,
            actor=actor,
            data=_event_data(found, previous),
            suggestion=found,
        )
    return found


def reject_suggestion(suggestion: Suggestion | int, *, actor: Actor) -> Suggestion:
    """Record that staff rejected the suggestion; the case is unchanged."""
    _require_staff(actor)
    with transaction.atomic():
        found = _lock_pending(suggestion)
        case = lock_case(found.case_id)
        _decide(found, SuggestionStatus.REJECTED, actor)
        record(
            case,
            EventKind.SUGGESTION_REJECTED,
            signals.suggestion_rejected,
            actor=actor,
            data=_event_data(found, None),
            suggestion=found,
        )
    return found


def _decide(found: Suggestion, status: str, actor: Actor) -> None:
    found.status = status
    found.decided_at = timezone.now()
    found.decided_by = actor
    found.save(update_fields=["status", "decided_at", "decided_by"])


def _event_data(found: Suggestion, previous: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "suggestion": found.pk,
        "field": found.field,
        "suggested": found.suggested.slug,
        "confidence": found.confidence,
    }
    if found.status == SuggestionStatus.ACCEPTED:
        data["previous"] = previous
    return data


@dataclass(frozen=True)
class Acceptance:
    """How staff received the suggestions made in a period."""

    accepted: int
    rejected: int
    pending: int

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def rate(self) -> float | None:
        """Accepted share of the decided suggestions (None before any decision)."""
        return self.accepted / self.decided if self.decided else None


def acceptance_rate(
    start: datetime | None = None, end: datetime | None = None, *, field: str | None = None
) -> Acceptance:
    """Accepted, rejected and pending suggestions made in ``[start, end)`` (one query)."""
    query = Suggestion.objects.all()
    if start is not None:
        query = query.filter(created_at__gte=start)
    if end is not None:
        query = query.filter(created_at__lt=end)
    if field is not None:
        query = query.filter(field=field)
    counts = query.aggregate(
        accepted=Count("pk", filter=Q(status=SuggestionStatus.ACCEPTED)),
        rejected=Count("pk", filter=Q(status=SuggestionStatus.REJECTED)),
        pending=Count("pk", filter=Q(status=SuggestionStatus.PENDING)),
    )
    return Acceptance(counts["accepted"], counts["rejected"], counts["pending"])
