"""The offer policy only decides: the service that presents the offer draws the experiment arm,
hands it to the policy and stores the assignment; policies written against the earlier
``choose_offer(self, case)`` keep working."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import OfferOutcome
from django_graceful_cancel.models import (
    ExperimentAssignment,
    ExperimentVariant,
    OfferExperiment,
    OfferPresentation,
    Reason,
    RetentionOffer,
)
from django_graceful_cancel.policies import Arm, BaseOfferPolicy, DefaultOfferPolicy
from django_graceful_cancel.services import experiments

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def all_pause(catalogue: None) -> OfferExperiment:
    """An experiment on "price" whose one variant is the pause offer, no holdout."""
    experiment = OfferExperiment.objects.create(
        name="All pause", reason=Reason.objects.get(slug="price"), holdout_percent=0
    )
    ExperimentVariant.objects.create(
        experiment=experiment, offer=RetentionOffer.objects.get(slug="pause-2m")
    )
    return experiment


def use_policy(settings: Any, path: str) -> None:
    settings.GRACEFUL_CANCEL = {**settings.GRACEFUL_CANCEL, "OFFER_POLICY": path}


def case_with_reason(customer: Any, reason: str) -> Any:
    case, _ = services.start_case(customer)
    return services.record_reason(case, reason)


def test_choose_offer_makes_no_writes(make_customer, all_pause):
    case = case_with_reason(make_customer(), "price")
    arm = experiments.draw_arm(case)
    assert isinstance(arm, Arm) and arm.assignment.pk is None

    with CaptureQueriesContext(connection) as queries:
        offer = DefaultOfferPolicy().choose_offer(case, arm=arm)

    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]
    assert writes == []
    assert offer is not None and offer.slug == "pause-2m"
    assert not ExperimentAssignment.objects.filter(case=case).exists()

    # The service that presents the offer stores the arm the policy used.
    presentation = services.present_offer(case)
    assert presentation is not None and presentation.offer.slug == "pause-2m"
    assignment = ExperimentAssignment.objects.get(case=case)
    assert (assignment.experiment, assignment.is_holdout) == (all_pause, False)
    assert experiments.draw_arm(case).assignment.pk == assignment.pk  # same arm, once


class ArmRecordingPolicy(BaseOfferPolicy):
    """New signature: receives the arm, decides from it alone."""

    seen: list[Any] = []

    def choose_offer(self, case: Any, *, arm: Arm | None = None) -> Any:
        self.seen.append(arm)
        return arm.offer if arm is not None else None


def test_a_policy_receives_the_arm(settings, make_customer, all_pause):
    use_policy(settings, "tests.test_offer_policy.ArmRecordingPolicy")
    ArmRecordingPolicy.seen.clear()
    case = case_with_reason(make_customer(), "price")
    assert services.present_offer(case).offer.slug == "pause-2m"
    [arm] = ArmRecordingPolicy.seen
    assert arm.experiment == all_pause and not arm.is_holdout
    assert ExperimentAssignment.objects.filter(case=case).exists()


class EarlierSignaturePolicy(DefaultOfferPolicy):
    """Written before ``arm`` existed, as docs/backends.md used to show."""

    def choose_offer(self, case: Any) -> Any:
        if case.tenure_days is not None and case.tenure_days < 30:
            return None
        return super().choose_offer(case)


class NoArmPolicy:
    """Not even a subclass: the earliest custom policies."""

    def choose_offer(self, case: Any) -> Any:
        return RetentionOffer.objects.get(slug="discount-30-3m")


def test_a_policy_with_the_earlier_signature_still_follows_experiments(
    settings, make_customer, all_pause
):
    use_policy(settings, "tests.test_offer_policy.EarlierSignaturePolicy")
    case = case_with_reason(make_customer(), "price")
    assert services.present_offer(case).offer.slug == "pause-2m"
    assert ExperimentAssignment.objects.filter(case=case).exists()

    use_policy(settings, "tests.test_offer_policy.NoArmPolicy")
    other = case_with_reason(make_customer(), "price")
    assert services.present_offer(other).offer.slug == "discount-30-3m"
    # This policy never looked at the arm: the case is not in the experiment's figures.
    assert not ExperimentAssignment.objects.filter(case=other).exists()


def test_a_case_the_policy_turns_away_is_not_in_the_experiment(make_customer, catalogue):
    """Only cases whose offer the experiment decided count in its figures, as before."""
    experiment = OfferExperiment.objects.create(name="General", holdout_percent=50)
    ExperimentVariant.objects.create(
        experiment=experiment, offer=RetentionOffer.objects.get(slug="pause-2m")
    )
    closed = case_with_reason(make_customer(), "business-closed")  # the reason allows no offer
    assert services.present_offer(closed) is None

    customer = make_customer()
    earlier, _ = services.start_case(customer)
    OfferPresentation.objects.create(
        case=earlier,
        customer=customer,
        offer=RetentionOffer.objects.get(slug="discount-30-3m"),
        outcome=OfferOutcome.ACCEPTED,
        decided_at=timezone.now() - timedelta(days=3),
    )
    services.abandon(earlier)
    recent = case_with_reason(customer, "price")  # accepted an offer three days ago
    assert services.present_offer(recent) is None

    assert not ExperimentAssignment.objects.filter(case__in=[closed, recent]).exists()
