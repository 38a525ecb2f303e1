"""Offer policies: which single offer, if any, a case is shown.

The policy is chosen by dotted path in ``GRACEFUL_CANCEL["OFFER_POLICY"]``. Subclass
``BaseOfferPolicy`` (or ``DefaultOfferPolicy`` to add a rule) and return an offer or None; the
service layer records the presentation, so a policy only decides.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from .choices import OfferOutcome
from .conf import app_settings

if TYPE_CHECKING:
    from .models import CancellationCase, RetentionOffer


class BaseOfferPolicy:
    def choose_offer(self, case: CancellationCase) -> RetentionOffer | None:
        raise NotImplementedError


class DefaultOfferPolicy(BaseOfferPolicy):
    """The first active offer that fits the stated reason, unless one of the rules says no:

    * no reason stated: the customer skipped the question, so they get no pitch;
    * the reason does not allow offers (``Reason.offer_allowed``, e.g. business closed);
    * the customer accepted an offer in the last ``OFFER_COOLDOWN_DAYS`` days;
    * an offer the customer declined before is never shown again;
    * an active offer experiment (``OfferExperiment``) for the reason picks the variant's offer,
      or none for its holdout share.
    """

    def choose_offer(self, case: CancellationCase) -> RetentionOffer | None:
        reason = case.reason
        if reason is None or not reason.offer_allowed or not reason.is_active:
            return None
        if self.accepted_recently(case):
            return None
        decided, offer = self.experiment_offer(case)
        if decided:
            return offer
        candidates = reason.offers.filter(is_active=True).order_by("order", "pk")
        if case.customer_id is not None:
            candidates = candidates.exclude(
                presentations__customer_id=case.customer_id,
                presentations__outcome=OfferOutcome.DECLINED,
            )
        for offer in candidates:
            if self.fits(case, offer):
                return offer
        return None

    def experiment_offer(self, case: CancellationCase) -> tuple[bool, RetentionOffer | None]:
        """An active offer experiment decides: ``(True, variant's offer)``, ``(True, None)`` for
        the holdout, or ``(False, None)`` when no experiment applies (see docs/admin.md)."""
        from .services.experiments import experiment_offer

        decided, offer = experiment_offer(case)
        if offer is not None and case.customer_id is not None:
            declined = offer.presentations.filter(
                customer_id=case.customer_id, outcome=OfferOutcome.DECLINED
            ).exists()
            if declined or not self.fits(case, offer):
                return True, None
        return decided, offer

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
