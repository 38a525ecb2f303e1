"""An offer asked for after the cancellation is confirmed (the us-mn profile).

Minnesota's law (Minn. Stat. 325G.56 to 325G.62) lets a business present no retention offer while
the customer cancels; once the cancellation is complete it may *ask* whether the customer wants to
hear one. So, for a case whose profile has ``offer_after_confirm``:

1. the confirmation page asks "Would you like to hear an offer?" (``offer_question_open``), only
   while the cancellation can still be undone and the policy has an offer to give;
2. "No, thanks" is ``decline_offer_question``: it changes nothing but is recorded (timeline
   event, signal, the evidence record), and the question is not asked again; "Yes" is
   ``hear_offer``: the policy's one offer is presented
   (``present_offer(after_confirmation=True)``), and
3. accepting it is ``accept_offer_after_confirmation``: in one transaction the offer is applied by
   its route, the cancellation is undone (``reactivate``) and the presentation is recorded as
   accepted, each with its timeline event and signal; declining it
   (``decline_offer_after_confirmation``) leaves the cancellation as it was.

The flow's ``accept_offer`` and ``decline_offer`` (``services.flow``) send a cancelled case here,
so the page and the API call the same entries as for an offer shown before the confirmation.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from .. import signals
from ..choices import CaseStatus, EventKind, OfferOutcome
from ..compliance import rules_for
from ..exceptions import BackendError, InvalidTransition
from ..models import CancellationCase, OfferPresentation
from ..policies import decide_offer, get_offer_policy
from . import experiments, fulfilment
from .cases import present_offer, reactivate
from .core import Actor, lock_case, record, require

logger = logging.getLogger("django_graceful_cancel")


def offer_question_open(case: CancellationCase) -> bool:
    """Whether the customer may be asked now whether they want to hear an offer.

    The case is cancelled under a profile that allows asking, the cancellation can still be
    undone (accepting reactivates), nothing was presented to it yet, and the offer policy has an
    offer for it that someone applies: the question is never asked about an offer that does not
    exist. Only reads.
    """
    if case.status != CaseStatus.CANCELLED or not case.can_reactivate:
        return False
    if not rules_for(case.compliance_profile).offer_after_confirm:
        return False
    if OfferPresentation.objects.filter(case=case).exists():
        return False
    if case.events.filter(kind=EventKind.OFFER_QUESTION_DECLINED).exists():
        return False  # "no, thanks" is asked once only
    offer = decide_offer(get_offer_policy(), case, arm=experiments.draw_arm(case))
    return offer is not None and fulfilment.route_for(offer) is not None


def hear_offer(case: CancellationCase, *, actor: Actor = None) -> OfferPresentation:
    """The customer said yes: present the one offer (returns the existing one when asked again).

    Raises ``InvalidTransition`` (``offer_not_allowed``) when the profile does not allow it or
    the case is not a cancellation that can still be undone, and ``no_offer`` when the policy has
    none for the case.
    """
    case = CancellationCase.objects.get(pk=case.pk)
    if case.status != CaseStatus.CANCELLED:
        raise InvalidTransition(code="case_not_cancelled")
    if not rules_for(case.compliance_profile).offer_after_confirm or not case.can_reactivate:
        raise InvalidTransition(code="offer_not_allowed")
    presentation = present_offer(case, actor=actor, after_confirmation=True)
    if presentation is None:
        raise InvalidTransition(code="no_offer")
    return presentation


def decline_offer_question(case: CancellationCase, *, actor: Actor = None) -> CancellationCase:
    """The customer said "no, thanks" to hearing an offer: nothing changes, but the answer is
    recorded (``offer_question_declined``: timeline event and signal), so the evidence record
    and the analytics see it, and the question is not asked again (``offer_question_open``).

    Idempotent: a second "no" records nothing. Raises ``InvalidTransition``
    (``case_not_cancelled``, ``offer_not_allowed``) when the question does not apply.
    """
    with transaction.atomic():
        case = lock_case(case)
        require(case, [CaseStatus.CANCELLED], "case_not_cancelled")
        if not rules_for(case.compliance_profile).offer_after_confirm:
            raise InvalidTransition(code="offer_not_allowed")
        if case.events.filter(kind=EventKind.OFFER_QUESTION_DECLINED).exists():
            return case
        record(
            case, EventKind.OFFER_QUESTION_DECLINED, signals.offer_question_declined, actor=actor
        )
    return case


def _pending(case: CancellationCase) -> OfferPresentation:
    presentation = (
        OfferPresentation.objects.select_for_update()
        .filter(case=case)
        .select_related("offer")
        .first()
    )
    if presentation is None:
        raise InvalidTransition(code="no_offer")
    if presentation.outcome != OfferOutcome.PRESENTED:
        raise InvalidTransition(code="offer_already_decided")
    return presentation


def accept_offer_after_confirmation(
    case: CancellationCase, *, actor: Actor = None
) -> CancellationCase:
    """Accept the offer heard after the confirmation: the subscription is reactivated with it.

    One transaction: the offer is applied by its route (``services.fulfilment``), the
    cancellation undone (``reactivate``: event, signal, follow-ups stopped, the provider told
    after the commit) and the presentation marked accepted (``offer_accepted``). If applying
    fails, nothing changes and ``BackendError`` propagates, as for ``accept_offer``.
    """
    with transaction.atomic():
        case = lock_case(case)
        require(case, [CaseStatus.CANCELLED], "case_not_cancelled")
        if not rules_for(case.compliance_profile).offer_after_confirm:
            raise InvalidTransition(code="offer_not_allowed")
        if not case.can_reactivate:
            raise InvalidTransition(code="reactivation_window_closed")
        presentation = _pending(case)
        try:
            applied = fulfilment.fulfil(case, presentation, actor=actor)
        except BackendError as error:
            logger.warning(
                "Offer %s could not be applied to case %s after its confirmation (%s): %s",
                presentation.offer.slug,
                case.reference,
                error.code,
                error,
            )
            raise
        case = reactivate(case, actor=actor)
        now = timezone.now()
        presentation.outcome = OfferOutcome.ACCEPTED
        presentation.decided_at = now
        presentation.applied = applied or {}
        presentation.save(update_fields=["outcome", "decided_at", "applied"])
        CancellationCase.objects.filter(pk=case.pk).update(saved_at=now)
        case.saved_at = now
        # The instance handed back carries the decided presentation (the API answers from it).
        case.offer_presentation = presentation
        record(
            case,
            EventKind.OFFER_ACCEPTED,
            signals.offer_accepted,
            actor=actor,
            data={
                "offer": presentation.offer.slug,
                "applied": presentation.applied,
                "after_confirmation": True,
            },
            presentation=presentation,
            applied=presentation.applied,
        )
    return case


def decline_offer_after_confirmation(
    case: CancellationCase, *, actor: Actor = None
) -> CancellationCase:
    """Decline the offer heard after the confirmation; the cancellation stands as it was."""
    with transaction.atomic():
        case = lock_case(case)
        require(case, [CaseStatus.CANCELLED], "case_not_cancelled")
        presentation = _pending(case)
        presentation.outcome = OfferOutcome.DECLINED
        presentation.decided_at = timezone.now()
        presentation.save(update_fields=["outcome", "decided_at"])
        case.offer_presentation = presentation
        record(
            case,
            EventKind.OFFER_DECLINED,
            signals.offer_declined,
            actor=actor,
            data={"offer": presentation.offer.slug, "after_confirmation": True},
            presentation=presentation,
        )
    return case
