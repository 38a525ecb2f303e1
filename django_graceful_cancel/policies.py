"""Offer policies: which single offer, if any, a case is shown.

The policy is chosen by dotted path in ``GRACEFUL_CANCEL["OFFER_POLICY"]``. Subclass
``BaseOfferPolicy`` (or ``DefaultOfferPolicy`` to add a rule) and implement::

    def choose_offer(self, case, *, arm=None) -> RetentionOffer | None

``case`` is the open case, with its reason and subscription snapshot. ``arm`` is the case's
``Arm`` of the active offer experiment, or None when no experiment applies: ``arm.offer`` is the
variant's offer (None for the holdout), ``arm.is_holdout``, ``arm.experiment``, ``arm.variant``.

A policy only decides: it reads, it never writes. The service layer (``present_offer``) draws the
arm, stores the case's experiment assignment when the policy looked at the arm, records the
presentation, never shows a second offer and never shows one where the compliance profile forbids
it.

A policy written against the earlier signature ``choose_offer(self, case)`` keeps working: it is
called without ``arm``, and when it defers to ``DefaultOfferPolicy`` (``super().choose_offer(case)``)
the default rules still see the case's arm.
"""

from __future__ import annotations

import inspect
from contextvars import ContextVar
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from .choices import OfferOutcome
from .conf import app_settings
from .services.fulfilment import route_for

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from .models import (
        CancellationCase,
        ExperimentAssignment,
        ExperimentVariant,
        OfferExperiment,
        OfferPresentation,
        RetentionOffer,
    )


class Arm:
    """The arm of an offer experiment a case falls in, as the policy sees it.

    Built by ``services.experiments.draw_arm`` around the case's ``ExperimentAssignment`` (stored
    already, or not yet). Reading ``experiment``, ``variant``, ``offer`` or ``is_holdout`` marks the
    arm ``exposed``: the case takes part in the experiment only when its policy looked at the arm,
    and ``present_offer`` then stores the assignment.
    """

    __slots__ = ("assignment", "exposed")

    def __init__(self, assignment: ExperimentAssignment) -> None:
        #: The row behind the arm (reading it does not count as exposure).
        self.assignment = assignment
        self.exposed = False

    @property
    def experiment(self) -> OfferExperiment:
        self.exposed = True
        return self.assignment.experiment

    @property
    def variant(self) -> ExperimentVariant | None:
        self.exposed = True
        return self.assignment.variant

    @property
    def is_holdout(self) -> bool:
        self.exposed = True
        return self.assignment.is_holdout or self.assignment.variant is None

    @property
    def offer(self) -> RetentionOffer | None:
        """The variant's offer; None for the holdout."""
        variant = self.variant
        return None if self.assignment.is_holdout or variant is None else variant.offer

    def __repr__(self) -> str:
        return f"<Arm {self.assignment}>"


#: The arm of the case being decided, for policies called with the earlier signature.
_current_arm: ContextVar[Arm | None] = ContextVar("graceful_cancel_offer_arm", default=None)


def _takes_arm(method: Any) -> bool:
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name == "arm" and p.kind is not inspect.Parameter.POSITIONAL_ONLY)
        for p in parameters
    )


def decide_offer(policy: Any, case: CancellationCase, *, arm: Arm | None) -> RetentionOffer | None:
    """Ask ``policy`` which offer ``case`` gets, handing it the case's experiment ``arm``.

    ``present_offer`` calls this. A policy whose ``choose_offer`` takes no ``arm`` is called as
    ``choose_offer(case)``; the arm then reaches ``DefaultOfferPolicy``'s rules through the call's
    context, so a subclass written before the ``arm`` argument still follows experiments.
    """
    if _takes_arm(policy.choose_offer):
        return policy.choose_offer(case, arm=arm)
    token = _current_arm.set(arm)
    try:
        return policy.choose_offer(case)
    finally:
        _current_arm.reset(token)


class BaseOfferPolicy:
    def choose_offer(
        self, case: CancellationCase, *, arm: Arm | None = None
    ) -> RetentionOffer | None:
        raise NotImplementedError


class DefaultOfferPolicy(BaseOfferPolicy):
    """The first active offer that fits the stated reason, unless one of the rules says no:

    * no reason stated: the customer skipped the question, so they get no pitch;
    * the reason does not allow offers (``Reason.offer_allowed``, e.g. business closed);
    * the customer accepted an offer in the last ``OFFER_COOLDOWN_DAYS`` days;
    * an offer the customer declined before is never shown again (to them: others still get it);
    * an offer nobody would apply (neither the subscription backend nor a route in
      ``OFFER_FULFILMENT``) is never shown;
    * ``fits``: a downgrade to the plan the customer already has is never shown;
    * an active offer experiment (``OfferExperiment``) for the reason picks the variant's offer
      (unless one of the rules above rules it out), or none for its holdout share.
    """

    def choose_offer(
        self, case: CancellationCase, *, arm: Arm | None = None
    ) -> RetentionOffer | None:
        reason = case.reason
        if reason is None or not reason.offer_allowed or not reason.is_active:
            return None
        if self.accepted_recently(case):
            return None
        decided, offer = self.experiment_offer(case, arm)
        if decided:
            return offer
        candidates = reason.offers.filter(is_active=True).order_by("order", "pk")
        if case.customer_id is not None:
            # A subquery on this customer's own declined presentations: one exclude() across the
            # multi-valued relation would match the customer and the decline on different rows,
            # hiding from Ben an offer Anna declined.
            candidates = candidates.exclude(pk__in=self.declined_offers(case))
        for offer in candidates:
            if self.fits(case, offer) and self.deliverable(offer):
                return offer
        return None

    def experiment_offer(
        self, case: CancellationCase, arm: Arm | None = None
    ) -> tuple[bool, RetentionOffer | None]:
        """An active offer experiment decides: ``(True, variant's offer)``, ``(True, None)`` for
        the holdout, or ``(False, None)`` when no experiment applies (see docs/admin.md)."""
        arm = arm if arm is not None else _current_arm.get()
        if arm is None:
            return False, None
        offer = arm.offer
        if offer is None:
            return True, None
        if (
            case.customer_id is not None
            and self.declined_offers(case).filter(offer_id=offer.pk).exists()
        ):
            return True, None
        if not self.fits(case, offer) or not self.deliverable(offer):
            return True, None
        return True, offer

    def declined_offers(self, case: CancellationCase) -> QuerySet[OfferPresentation, Any]:
        """This customer's declined presentations, as ``offer_id`` values (a subquery)."""
        from .models import OfferPresentation

        return OfferPresentation.objects.filter(
            customer_id=case.customer_id, outcome=OfferOutcome.DECLINED
        ).values("offer_id")

    def deliverable(self, offer: RetentionOffer) -> bool:
        """An offer is a promise: shown only when the subscription backend applies it or the
        site routes its kind to a hook or to staff (``OFFER_FULFILMENT``; docs/backends.md)."""
        return route_for(offer) is not None

    def accepted_recently(self, case: CancellationCase) -> bool:
        from .models import OfferPresentation

        if case.customer_id is None:
            return False
        since = timezone.now() - timedelta(days=app_settings.OFFER_COOLDOWN_DAYS)
        return OfferPresentation.objects.filter(
            customer_id=case.customer_id, outcome=OfferOutcome.ACCEPTED, decided_at__gte=since
        ).exists()

    def fits(self, case: CancellationCase, offer: RetentionOffer) -> bool:
        """Per-offer rule; the default drops a downgrade to the plan the customer already has."""
        target = (offer.parameters or {}).get("plan")
        current = {case.plan_code, case.plan} - {""}
        return not (offer.kind == "downgrade" and target and str(target) in current)


def get_offer_policy() -> BaseOfferPolicy:
    return app_settings.OFFER_POLICY()
