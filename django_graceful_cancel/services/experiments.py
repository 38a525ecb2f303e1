"""Offer experiments: which arm of the active experiment a case is in.

``present_offer`` draws the case's arm (``draw_arm``: a stable hash of the case's reference, so
the same case always falls in the same arm), hands it to the offer policy, which only decides,
and stores it (``store_arm``) as the case's ``ExperimentAssignment`` when the policy looked at it.
A case is assigned once; later draws return the stored arm.
"""

from __future__ import annotations

import hashlib

from ..models import (
    CancellationCase,
    ExperimentAssignment,
    ExperimentVariant,
    OfferExperiment,
    RetentionOffer,
    catalogue_cache,
)
from ..policies import Arm


def _bucket(experiment_pk: int, reference: str) -> float:
    """A stable number in [0, 1) for this case in this experiment (same case, same arm)."""
    digest = hashlib.sha256(f"{experiment_pk}:{reference}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def active_experiment(case: CancellationCase) -> OfferExperiment | None:
    """The active experiment the case takes part in: one for its reason first, then a general one."""
    if case.reason_id is None:
        return None
    # The cached catalogue (models/catalogue_cache.py) holds every experiment, newest first.
    found = [
        experiment
        for experiment, _variants in catalogue_cache.experiments()
        if experiment.is_active and experiment.reason_id in (case.reason_id, None)
    ]
    specific = [e for e in found if e.reason_id == case.reason_id]
    return (specific or found)[0] if found else None


def _variants_of(experiment: OfferExperiment) -> list[ExperimentVariant]:
    for cached_experiment, variants in catalogue_cache.experiments():
        if cached_experiment.pk == experiment.pk:
            return variants
    return []


def draw_arm(case: CancellationCase) -> Arm | None:
    """The case's arm: the one stored for it, else the one it falls in now (not stored yet).

    Only reads. None when no experiment applies (a case with no reason stated is in none): the
    policy then behaves exactly as without experiments.
    """
    if case.reason_id is None:
        return None
    if not catalogue_cache.experiments():
        # No experiment was ever set up, so no case has an arm stored: no query (issue 19).
        return None
    existing = (
        ExperimentAssignment.objects.filter(case_id=case.pk)
        .select_related("variant__offer")
        .first()
    )
    if existing is not None:
        return Arm(existing)
    experiment = active_experiment(case)
    if experiment is None:
        return None
    variants = _variants_of(experiment)
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
    return Arm(
        ExperimentAssignment(
            case=case, experiment=experiment, variant=variant, is_holdout=variant is None
        )
    )


def store_arm(arm: Arm | None) -> ExperimentAssignment | None:
    """Store the case's assignment if the policy looked at its arm (``arm.exposed``) and it is
    not stored yet; returns the stored row, or None. Call inside the transaction that holds the
    case's lock (``present_offer``'s)."""
    if arm is None or not arm.exposed:
        return None
    if arm.assignment.pk is None:
        arm.assignment.save(force_insert=True)
    return arm.assignment


def assign_experiment(case: CancellationCase) -> ExperimentAssignment | None:
    """Put the case in an arm of the active experiment (once; later calls return the same arm).

    Returns None when no experiment applies. ``present_offer`` does this through ``draw_arm`` and
    ``store_arm``, storing the arm only when the policy used it; this stores it at once.
    """
    arm = draw_arm(case)
    if arm is None:
        return None
    if arm.assignment.pk is None:
        arm.assignment.save(force_insert=True)
    return arm.assignment


def experiment_offer(case: CancellationCase) -> tuple[bool, RetentionOffer | None]:
    """``(True, offer or None)`` when an experiment decides for this case, else ``(False, None)``;
    the case is assigned to its arm (stored) when one applies."""
    assignment = assign_experiment(case)
    if assignment is None:
        return False, None
    arm = Arm(assignment)
    return True, arm.offer
