"""Offer experiments: which arm of the active experiment a case is in.

The offer policy calls ``experiment_offer`` inside ``present_offer``'s transaction; the arm is
chosen once per case (a stable hash of the case's reference) and stored as an
``ExperimentAssignment``.
"""

from __future__ import annotations

import hashlib

from django.db.models import Q

from ..models import CancellationCase, ExperimentAssignment, OfferExperiment, RetentionOffer


def _bucket(experiment_pk: int, reference: str) -> float:
    """A stable number in [0, 1) for this case in this experiment (same case, same arm)."""
    digest = hashlib.sha256(f"{experiment_pk}:{reference}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def active_experiment(case: CancellationCase) -> OfferExperiment | None:
    """The active experiment the case takes part in: one for its reason first, then a general one."""
    if case.reason_id is None:
        return None
    candidates = (
        OfferExperiment.objects.filter(is_active=True)
        .filter(Q(reason_id=case.reason_id) | Q(reason__isnull=True))
        .order_by("reason_id", "-created_at")  # NULLs sort last on SQLite and PostgreSQL asc
    )
    found = list(candidates[:5])
    specific = [e for e in found if e.reason_id == case.reason_id]
    return (specific or found or [None])[0]


def assign_experiment(case: CancellationCase) -> ExperimentAssignment | None:
    """Put the case in an arm of the active experiment (once; later calls return the same arm).

    Called by the offer policy inside ``present_offer``'s transaction. Returns None when no
    experiment applies, and the policy then behaves exactly as without experiments.
    """
    existing = (
        ExperimentAssignment.objects.filter(case_id=case.pk)
        .select_related("variant__offer")
        .first()
    )
    if existing is not None:
        return existing
    experiment = active_experiment(case)
    if experiment is None:
        return None
    variants = list(experiment.variants.select_related("offer").filter(offer__is_active=True))
    if not variants:
        return None  # nothing to compare: an empty holdout-only arm would skew the figures
    point = _bucket(experiment.pk, case.reference)
    holdout_share = experiment.holdout_percent / 100
    variant = None
    if variants and point >= holdout_share:
        # Rescale the rest of [holdout, 1) onto the cumulative weights.
        total = sum(v.weight for v in variants)
        target = (point - holdout_share) / (1 - holdout_share) * total
        running = 0
        for candidate in variants:
            running += candidate.weight
            if target < running:
                variant = candidate
                break
        variant = variant or variants[-1]
    return ExperimentAssignment.objects.create(
        case=case, experiment=experiment, variant=variant, is_holdout=variant is None
    )


def experiment_offer(case: CancellationCase) -> tuple[bool, RetentionOffer | None]:
    """``(True, offer or None)`` when an experiment decides for this case, else ``(False, None)``."""
    assignment = assign_experiment(case)
    if assignment is None:
        return False, None
    if assignment.is_holdout or assignment.variant is None:
        return True, None
    return True, assignment.variant.offer
