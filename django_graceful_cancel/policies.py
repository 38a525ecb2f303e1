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
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db.models import Q
from django.utils import timezone

from .choices import OfferOutcome
from .conf import app_settings
from .models import catalogue_cache
from .services.fulfilment import route_for
from .services.pauses import offer_days, pause_limit_reached
from .services.pauses import too_long as too_long_pause

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


class OfferHistory(NamedTuple):
    """What a customer did with earlier offers, as the default rules read it."""

    #: An offer accepted within ``OFFER_COOLDOWN_DAYS``.
    accepted_recently: bool
    #: The offers this customer declined, ever.
    declined: frozenset[int]


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

    def choose_winback_offer(self, case: CancellationCase) -> RetentionOffer | None:
        """The one offer the case's win-back message carries, or None (the default: none).
        Reads only; called once, when the case's win-back arm is drawn (docs/returns.md)."""
        return None


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
        # One query answers both history rules (issue 19); a subclass that overrides
        # ``accepted_recently`` still has its own rule applied.
        history = self.offer_history(case)
        if type(self).accepted_recently is not DefaultOfferPolicy.accepted_recently:
            if self.accepted_recently(case):
                return None
        elif history.accepted_recently:
            return None
        decided, offer = self.experiment_offer(case, arm, declined=history.declined)
        if decided:
            return offer
        # The reason's offers come from the cached catalogue (models/catalogue_cache.py), in the
        # catalogue's order; only this customer's own declines are left out (others still get
        # an offer Anna declined).
        for offer in catalogue_cache.offers_for(reason.pk):
            if offer.pk in history.declined:
                continue
            if self.fits(case, offer) and self.deliverable(offer):
                return offer
        return None

    def offer_history(self, case: CancellationCase) -> OfferHistory:
        """This customer's accepted-recently flag and declined offers, in one query."""
        from .models import OfferPresentation

        if case.customer_id is None:
            return OfferHistory(accepted_recently=False, declined=frozenset())
        since = timezone.now() - timedelta(days=app_settings.OFFER_COOLDOWN_DAYS)
        rows = OfferPresentation.objects.filter(
            Q(outcome=OfferOutcome.DECLINED)
            | Q(outcome=OfferOutcome.ACCEPTED, decided_at__gte=since),
            customer_id=case.customer_id,
        ).values_list("outcome", "offer_id")
        accepted, declined = False, set()
        for outcome, offer_id in rows:
            if outcome == OfferOutcome.ACCEPTED:
                accepted = True
            else:
                declined.add(offer_id)
        return OfferHistory(accepted_recently=accepted, declined=frozenset(declined))

    def experiment_offer(
        self,
        case: CancellationCase,
        arm: Arm | None = None,
        *,
        declined: frozenset[int] | None = None,
    ) -> tuple[bool, RetentionOffer | None]:
        """An active offer experiment decides: ``(True, variant's offer)``, ``(True, None)`` for
        the holdout, or ``(False, None)`` when no experiment applies (see docs/admin.md)."""
        arm = arm if arm is not None else _current_arm.get()
        if arm is None:
            return False, None
        offer = arm.offer
        if offer is None:
            return True, None
        if declined is not None:
            if offer.pk in declined:
                return True, None
        elif (
            case.customer_id is not None
            and self.declined_offers(case).filter(offer_id=offer.pk).exists()
        ):
            return True, None
        if not self.fits(case, offer) or not self.deliverable(offer):
            return True, None
        return True, offer

    def choose_winback_offer(self, case: CancellationCase) -> RetentionOffer | None:
        """The first offer of ``WINBACK_OFFERS`` that the same rules allow: a reason that allows
        offers, no offer accepted within ``OFFER_COOLDOWN_DAYS`` (a win-back offer taken on an
        earlier return counts), never one the customer declined, and only a kind the backend's
        ``resubscribe`` really applies (``winback_deliverable``)."""
        return _winback_rules(self, case)

    def winback_deliverable(self, offer: RetentionOffer) -> bool:
        """A win-back offer is a promise too: only a kind the backend's ``resubscribe`` applies
        to the new subscription, with what the backend needs to price it."""
        from .backends import get_backend

        backend = get_backend()
        capabilities = backend.capabilities()
        if not capabilities.resubscribe or offer.kind not in capabilities.resubscribe_offer_kinds:
            return False
        problem = getattr(backend, "offer_problem", None)
        return not (callable(problem) and problem(offer))

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
        if offer.kind == "pause" and not self.pause_allowed(case, offer):
            return False
        target = (offer.parameters or {}).get("plan")
        current = {case.plan_code, case.plan} - {""}
        return not (offer.kind == "downgrade" and target and str(target) in current)

    def pause_allowed(self, case: CancellationCase, offer: RetentionOffer) -> bool:
        """The pause limits (docs/pause.md): no pause longer than ``PAUSE_MAX_DAYS``, none once
        the customer took ``PAUSE_MAX_PER_YEAR`` pauses in 365 days. The count is one query,
        made once per case however many pause offers the rules look at."""
        if too_long_pause(offer_days(offer)):
            return False
        known: dict[Any, bool] = self.__dict__.setdefault("_pause_limit_reached", {})
        if case.pk not in known:
            known[case.pk] = pause_limit_reached(case.customer_id)
        return not known[case.pk]


def _winback_rules(policy: DefaultOfferPolicy, case: CancellationCase) -> RetentionOffer | None:
    """``DefaultOfferPolicy.choose_winback_offer``: the first of ``WINBACK_OFFERS`` the rules
    allow."""
    from .models import CaseReturn, RetentionOffer

    reason = case.reason
    slugs = list(app_settings.WINBACK_OFFERS or [])
    if not slugs or reason is None or not reason.offer_allowed:
        return None
    if policy.accepted_recently(case):
        return None
    if case.customer_id is not None:
        since = timezone.now() - timedelta(days=app_settings.OFFER_COOLDOWN_DAYS)
        # A win-back offer taken on an earlier return counts as an accepted offer.
        if CaseReturn.objects.filter(
            customer_id=case.customer_id, offer__isnull=False, started_at__gte=since
        ).exists():
            return None
    candidates = {o.slug: o for o in RetentionOffer.objects.filter(slug__in=slugs, is_active=True)}
    declined: set[int] = set()
    if case.customer_id is not None:
        declined = set(policy.declined_offers(case).values_list("offer_id", flat=True))
    for slug in slugs:
        offer = candidates.get(slug)
        if offer is not None and offer.pk not in declined and policy.winback_deliverable(offer):
            return offer
    return None


def get_offer_policy() -> BaseOfferPolicy:
    return app_settings.OFFER_POLICY()
