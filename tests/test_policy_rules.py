"""Every rule of ``DefaultOfferPolicy``, each pinned by a test that fails when the rule is removed.

Each test pairs the rule's "no" with a control that gets the offer, so a test cannot pass because
nothing is ever offered. Rules, in the order ``choose_offer`` applies them: no reason; a reason
that allows no offer; an inactive reason; an offer accepted within the cooldown; the experiment
(its variant, its holdout, and the same exclusions as below for its variant); inactive offers;
the catalogue order; offers this customer declined (theirs only); ``fits`` (no downgrade to the
current plan); ``deliverable`` (someone applies it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import OfferOutcome
from django_graceful_cancel.models import (
    ExperimentVariant,
    OfferExperiment,
    OfferPresentation,
    Reason,
    RetentionOffer,
)
from tests.support import gc_settings

pytestmark = pytest.mark.django_db


def offered(customer: Any, reason: str | None = "price") -> str | None:
    """The slug of the offer a new case of ``customer`` with ``reason`` is shown, or None."""
    case, _ = services.start_case(customer)
    if reason is not None:
        services.record_reason(case, reason)
    presentation = services.present_offer(case)
    return presentation.offer.slug if presentation is not None else None


def finish(customer: Any) -> None:
    """Close the customer's open case without deciding, so they can start another."""
    case = customer.cancellation_cases.get(status="open")
    services.abandon(case)


def decline(customer: Any, reason: str = "price") -> str:
    case, _ = services.start_case(customer)
    services.record_reason(case, reason)
    slug = services.present_offer(case).offer.slug
    services.decline_offer(case)
    services.abandon(case)
    return slug


def experiment(reason: str, offer: str, *, holdout: int = 0) -> OfferExperiment:
    found = OfferExperiment.objects.create(
        name=f"{reason}/{offer}", reason=Reason.objects.get(slug=reason), holdout_percent=holdout
    )
    ExperimentVariant.objects.create(experiment=found, offer=RetentionOffer.objects.get(slug=offer))
    return found


# --- the reason -------------------------------------------------------------------------------


def test_no_reason_no_offer(make_customer, catalogue):
    assert offered(make_customer(), reason=None) is None
    assert offered(make_customer()) == "discount-30-3m"  # control


def test_a_reason_that_allows_no_offer_gets_none_even_with_offers_linked(make_customer, catalogue):
    """A closing business gets no offer, even when staff linked one to the reason."""
    closed = Reason.objects.get(slug="business-closed")
    assert closed.offer_allowed is False
    RetentionOffer.objects.get(slug="pause-2m").reasons.add(closed)
    assert offered(make_customer(), "business-closed") is None
    # Control: the same reason allowing offers would show the pause.
    Reason.objects.filter(pk=closed.pk).update(offer_allowed=True)
    assert offered(make_customer(), "business-closed") == "pause-2m"


def test_an_inactive_reason_gets_no_offer(make_customer, catalogue):
    customer = make_customer()
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    Reason.objects.filter(slug="price").update(is_active=False)
    assert services.present_offer(case) is None
    Reason.objects.filter(slug="price").update(is_active=True)
    assert offered(make_customer()) == "discount-30-3m"  # control


# --- the cooldown -----------------------------------------------------------------------------


def accepted(customer: Any, days_ago: int, slug: str = "pause-2m") -> None:
    case, _ = services.start_case(customer)
    OfferPresentation.objects.create(
        case=case,
        customer=customer,
        offer=RetentionOffer.objects.get(slug=slug),
        outcome=OfferOutcome.ACCEPTED,
        decided_at=timezone.now() - timedelta(days=days_ago),
    )
    services.abandon(case)


def test_no_offer_within_the_cooldown_of_an_accepted_one(make_customer, catalogue):
    recent = make_customer()
    accepted(recent, days_ago=3)
    assert offered(recent) is None
    long_ago = make_customer()
    accepted(long_ago, days_ago=400)  # the default cooldown is 365 days
    assert offered(long_ago) == "discount-30-3m"


@override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_COOLDOWN_DAYS=10))
def test_the_cooldown_follows_the_setting(make_customer, catalogue):
    customer = make_customer()
    accepted(customer, days_ago=11)
    assert offered(customer) == "discount-30-3m"


def test_only_the_customers_own_acceptances_count(make_customer, catalogue):
    accepted(make_customer(), days_ago=3)
    assert offered(make_customer()) == "discount-30-3m"
    # A decline is not an acceptance: no cooldown (the declined offer itself is excluded).
    decliner = make_customer()
    assert decline(decliner, "temporary") == "pause-2m"
    assert offered(decliner) == "discount-30-3m"


# --- declined offers --------------------------------------------------------------------------


def test_an_offer_the_customer_declined_is_not_shown_to_them_again(make_customer, catalogue):
    customer = make_customer()
    assert decline(customer) == "discount-30-3m"
    assert offered(customer) is None  # "price" has no other offer


def test_anna_declining_does_not_hide_the_offer_from_ben(make_customer, catalogue):
    """The regression of issue 13: one exclude() over the multi-valued relation matched Ben's
    own (undecided) presentation and Anna's decline, and hid the offer from Ben."""
    ben = make_customer("ben")
    assert offered(ben) == "discount-30-3m"  # shown, never answered
    finish(ben)
    anna = make_customer("anna")
    assert decline(anna) == "discount-30-3m"
    assert offered(ben) == "discount-30-3m"  # Ben's third look still gets it
    assert offered(anna) is None


# --- the catalogue ----------------------------------------------------------------------------


def test_inactive_offers_are_not_shown(make_customer, catalogue):
    RetentionOffer.objects.filter(slug="discount-30-3m").update(is_active=False)
    assert offered(make_customer()) is None


def test_the_first_offer_in_the_catalogue_order_wins(make_customer, catalogue):
    price = Reason.objects.get(slug="price")
    discount = RetentionOffer.objects.get(slug="discount-30-3m")
    pause = RetentionOffer.objects.get(slug="pause-2m")
    pause.reasons.add(price)
    RetentionOffer.objects.filter(pk=pause.pk).update(order=discount.order - 1)
    assert offered(make_customer()) == "pause-2m"
    RetentionOffer.objects.filter(pk=pause.pk).update(order=discount.order + 1)
    assert offered(make_customer()) == "discount-30-3m"
    # On equal order, the older offer first (its slug sorts after the other's).
    extension = RetentionOffer.objects.get(slug="extension-1m")
    extension.reasons.add(price)
    RetentionOffer.objects.filter(pk__in=[discount.pk, extension.pk]).update(order=0)
    assert discount.pk < extension.pk and discount.slug < extension.slug
    RetentionOffer.objects.filter(pk=discount.pk).update(slug="zz-discount")
    assert offered(make_customer()) == "zz-discount"


def test_no_downgrade_to_the_plan_the_customer_already_has(make_customer, catalogue):
    assert offered(make_customer(plan="basic"), "unmet-expectations") is None
    assert offered(make_customer(plan="standard"), "unmet-expectations") == "downgrade-basic"


def test_an_offer_nobody_applies_is_not_shown(make_customer, catalogue):
    """The model backend does not apply discounts: without a route the offer is a promise
    nobody keeps."""
    with override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_FULFILMENT={})):
        assert offered(make_customer()) is None
    with override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_FULFILMENT={"discount": "staff"})):
        assert offered(make_customer()) == "discount-30-3m"


def test_an_offer_nobody_applies_gives_way_to_the_next_one(make_customer, catalogue):
    RetentionOffer.objects.get(slug="pause-2m").reasons.add(Reason.objects.get(slug="price"))
    with override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_FULFILMENT={})):
        assert offered(make_customer()) == "pause-2m"


# --- the experiment ---------------------------------------------------------------------------


def test_the_experiment_variant_wins_over_the_catalogue(make_customer, catalogue):
    experiment("price", "pause-2m")
    assert offered(make_customer()) == "pause-2m"


def test_the_experiment_holdout_gets_nothing(make_customer, catalogue):
    experiment("price", "pause-2m", holdout=100)
    assert offered(make_customer()) is None


def test_an_experiment_variant_the_customer_declined_is_not_shown_again(make_customer, catalogue):
    """The second survivor of the hand mutation test (issue 13)."""
    customer = make_customer()
    assert decline(customer, "temporary") == "pause-2m"
    experiment("price", "pause-2m")
    assert offered(customer) is None
    # Someone else's decline does not count.
    assert offered(make_customer()) == "pause-2m"


def test_an_experiment_variant_that_does_not_fit_is_not_shown(make_customer, catalogue):
    experiment("price", "downgrade-basic")
    assert offered(make_customer(plan="basic")) is None
    assert offered(make_customer(plan="premium")) == "downgrade-basic"


def test_an_experiment_variant_nobody_applies_is_not_shown(make_customer, catalogue):
    experiment("temporary", "consultation-call")
    with override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_FULFILMENT={})):
        assert offered(make_customer(), "temporary") is None
    assert offered(make_customer(), "temporary") == "consultation-call"


def test_the_policy_itself_passes_over_offers_nobody_applies(make_customer, catalogue):
    """The service would refuse them too (test_offer_fulfilment.py); the policy's own rule lets
    it go on to an offer someone applies, in the catalogue and in the experiment."""
    from django_graceful_cancel.policies import DefaultOfferPolicy
    from django_graceful_cancel.services import experiments as draws

    case, _ = services.start_case(make_customer())
    case = services.record_reason(case, "temporary")
    experiment("temporary", "consultation-call")
    policy = DefaultOfferPolicy()
    with override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_FULFILMENT={})):
        assert policy.choose_offer(case, arm=draws.draw_arm(case)) is None
        assert policy.choose_offer(case).slug == "pause-2m"  # no arm: the catalogue
    assert policy.choose_offer(case, arm=draws.draw_arm(case)).slug == "consultation-call"
