"""Return after the end: a former customer comes back from a signed come-back link.

The link (``followups.links.comeback_link``) is in the win-back messages and on the receipt page.
It is bound to the case and its customer, and remembers the message it came in. The page behind
it shows what coming back costs (``quote_return``: the plan they left at today's price, the
currency, the interval, the first charge date, and the win-back offer's price if the message
carried one) and one button; ``confirm_return`` then asks the subscription backend to subscribe
them again and records the return:

* ``CaseReturn`` on the case: when, how (a new subscription, a checkout page, the site's hook or
  sign-up page), and which message, channel and offer led to it;
* the timeline event ``returned`` and the signal ``case_returned`` (the outbound webhook
  ``case.returned``), once the customer is subscribed again;
* the rest of the follow-up sequence stops.

It is idempotent: confirming twice (a double click, a retry) returns the same return, and the
backend receives an idempotency key, so nobody is subscribed twice. A return through a checkout
page (Stripe without a saved payment method) or the site's own sign-up page is ``pending`` until
``complete_return`` hears it was completed.

Before the cancellation takes effect there is nothing to come back to: the page leads to the
existing reactivation instead (``Comeback.reactivate_instead``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import signals
from ..backends import get_backend
from ..backends.base import ResubscribeQuote
from ..choices import CaseStatus, EventKind, ReturnMethod, ReturnStatus
from ..exceptions import BackendError, InvalidInput, InvalidTransition
from ..followups.links import InvalidLink, read_comeback_token
from ..models import CancellationCase, CaseReturn, FollowUp, RetentionOffer, WinbackArm
from ..policies import DefaultOfferPolicy, get_offer_policy
from .core import Actor, lock_case, record, require
from .return_rules import can_come_back

__all__ = [
    "Comeback",
    "InvalidLink",
    "NotYourLink",
    "complete_return",
    "confirm_return",
    "open_comeback",
    "quote_return",
]

#: Where the return started, as ``CaseReturn.source`` says.
SOURCES = ("message", "receipt")


class NotYourLink(Exception):
    """A signed-in user opened a come-back link made for another customer (the page is a 404)."""


@dataclass(frozen=True)
class Comeback:
    """What a valid come-back link names."""

    case: CancellationCase
    followup: FollowUp | None
    channel: str
    source: str
    #: The win-back offer the message carried, while the backend still applies it; else None.
    offer: RetentionOffer | None

    @property
    def reactivate_instead(self) -> bool:
        """The cancellation has not taken effect yet: undoing it is the way back."""
        return self.case.can_reactivate

    @property
    def returned(self) -> CaseReturn | None:
        """The completed return (the link is used up), or None."""
        found = CaseReturn.objects.filter(case_id=self.case.pk).first()
        return found if found is not None and found.status == ReturnStatus.RETURNED else None

    @property
    def available(self) -> bool:
        """The customer can come back through this link now (and is not subscribed already)."""
        return can_come_back(self.case) and not already_subscribed(self.case)


def already_subscribed(case: CancellationCase) -> bool:
    """The customer has a live subscription other than the one that ended (they signed up again
    some other way): coming back would charge them twice, so the link is refused."""
    info = get_backend().get_active_subscription(case.customer)
    return info is not None and info.reference != case.subscription_ref


def _winback_offer(case: CancellationCase, followup: FollowUp | None) -> RetentionOffer | None:
    """The offer the case's win-back message carried (``WinbackArm.offer``), if the link came in
    that message and the offer is still active and applied by the backend."""
    if followup is None:
        return None
    arm = WinbackArm.objects.filter(case_id=case.pk).select_related("offer").first()
    offer = arm.offer if arm is not None else None
    if offer is None or not offer.is_active:
        return None
    policy = get_offer_policy()
    deliverable = getattr(policy, "winback_deliverable", None)
    if not callable(deliverable):
        deliverable = DefaultOfferPolicy().winback_deliverable
    return offer if deliverable(offer) else None


def open_comeback(token: str, *, user: Any = None) -> Comeback:
    """The case and attribution a come-back token names.

    Raises ``InvalidLink`` ("invalid", "expired") for a bad token, or one whose customer is no
    longer the case's; ``NotYourLink`` when ``user`` is signed in as someone else.
    """
    data = read_comeback_token(token)
    case = (
        CancellationCase.objects.select_related("customer", "reason")
        .filter(pk=data["case"])
        .first()
    )
    if case is None or case.customer_id is None or case.customer_id != data["customer"]:
        raise InvalidLink("invalid")
    if getattr(user, "is_authenticated", False) and user.pk != case.customer_id:
        raise NotYourLink()
    followup = None
    if data["followup"]:
        followup = FollowUp.objects.filter(pk=data["followup"], case_id=case.pk).first()
    source = data["source"] if data["source"] in SOURCES else "message"
    return Comeback(
        case=case,
        followup=followup,
        channel=data["channel"],
        source=source,
        offer=_winback_offer(case, followup),
    )


def quote_return(comeback: Comeback) -> tuple[ResubscribeQuote | None, RetentionOffer | None]:
    """What coming back costs, and the offer it includes. Reads only.

    An offer the backend can no longer price is left out (the page then shows the regular
    price): the page never shows a price nobody charges.
    """
    backend = get_backend()
    offer = comeback.offer
    if offer is not None:
        try:
            return backend.resubscribe_quote(comeback.case, offer=offer), offer
        except BackendError:
            offer = None
    return backend.resubscribe_quote(comeback.case, offer=None), None


def shown(quote: ResubscribeQuote) -> str:
    """The quote as the confirmation page posts it back: the confirm is refused if what would be
    charged differs from what the customer saw."""
    parts = [
        str(quote.amount),
        quote.currency,
        quote.interval,
        "" if quote.offer_amount is None else str(quote.offer_amount),
        str(quote.offer_periods),
        "checkout" if quote.needs_checkout else "saved",
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


QUOTE_CHANGED = _(
    "The price has changed since this page was shown. Please check the new price before you "
    "confirm."
)


def confirm_return(
    comeback: Comeback,
    *,
    seen: str,
    return_url: str,
    actor: Actor = None,
) -> tuple[CaseReturn, str]:
    """The customer confirmed the come-back page: subscribe them again.

    ``seen`` is ``shown(quote)`` of the page they confirmed (``InvalidInput`` on "quote" when the
    price changed since); ``return_url`` is where a checkout page sends them back. Returns the
    return and the page the customer goes to next ("" when they are back already).

    Raises ``InvalidTransition`` with ``code`` "reactivate_instead" (the cancellation has not
    taken effect: reactivate), "return_unavailable" (the backend cannot, the reason rules it
    out, or the customer is subscribed again already) or "case_not_cancelled"; ``BackendError`` when the provider refused (nothing changed).
    Idempotent: a second confirm returns the first return.
    """
    backend = get_backend()
    with transaction.atomic():
        case = lock_case(comeback.case)
        existing = CaseReturn.objects.select_for_update().filter(case_id=case.pk).first()
        if existing is not None and existing.status == ReturnStatus.RETURNED:
            return existing, ""
        require(case, [CaseStatus.CANCELLED], "case_not_cancelled")
        if case.can_reactivate:
            raise InvalidTransition(code="reactivate_instead")
        if not can_come_back(case) or already_subscribed(case):
            raise InvalidTransition(code="return_unavailable")
        quote, offer = quote_return(comeback)
        if quote is None:
            raise InvalidTransition(code="return_unavailable")
        if seen != shown(quote):
            raise InvalidInput.single("quote", "quote_changed", QUOTE_CHANGED)
        # One key per case and price: a double click or a retry never subscribes twice.
        key = f"graceful-cancel-return-{case.reference}-{shown(quote)}"
        result = backend.resubscribe(
            case, quote=quote, offer=offer, idempotency_key=key, return_url=return_url
        )
        fields: dict[str, Any] = {
            "customer_id": case.customer_id,
            "method": result.method,
            "source": comeback.source,
            "followup": comeback.followup,
            "channel": comeback.channel,
            "offer": offer,
            "amount": quote.amount,
            "offer_amount": quote.offer_amount,
            "currency": quote.currency,
            "interval": quote.interval,
            "first_charge_at": quote.first_charge_at,
            "subscription_ref": result.reference,
            "checkout_ref": result.checkout_ref,
            "started_at": timezone.now(),
            "status": ReturnStatus.PENDING,
        }
        case_return, _created = CaseReturn.objects.update_or_create(case=case, defaults=fields)
        done = result.method in (ReturnMethod.SUBSCRIPTION, ReturnMethod.HOOK) and bool(
            result.reference
        )
        if done:
            _returned(case, case_return, actor=actor)
        return case_return, "" if done else result.redirect_url


def complete_return(
    case: CancellationCase,
    *,
    checkout_ref: str = "",
    reference: str = "",
    actor: Actor = None,
) -> CaseReturn | None:
    """A pending return was completed: the provider's checkout (``checkout_ref``, checked with
    the backend) or the site's own sign-up page (``reference``: the new subscription, which the
    site passes when the customer it sent there signed up). Returns the return once complete, or
    None while the checkout is not paid. Idempotent."""
    with transaction.atomic():
        case = lock_case(case)
        case_return = CaseReturn.objects.select_for_update().filter(case_id=case.pk).first()
        if case_return is None:
            raise InvalidTransition(code="no_return_started")
        if case_return.status == ReturnStatus.RETURNED:
            return case_return
        if case_return.method == ReturnMethod.CHECKOUT:
            if checkout_ref != case_return.checkout_ref:
                raise InvalidTransition(code="no_return_started")
            reference = get_backend().resubscribe_completed(case, checkout_ref) or ""
            if not reference:
                return None
        elif not reference:
            raise InvalidInput.single("reference", "required", _("Name the new subscription."))
        case_return.subscription_ref = reference
        _returned(case, case_return, actor=actor)
        return case_return


def _returned(case: CancellationCase, case_return: CaseReturn, *, actor: Actor) -> None:
    """Mark the return complete, stop the follow-ups, write the event and send the signal."""
    from ..followups.outbox import stop_sequence

    now = timezone.now()
    CaseReturn.objects.filter(pk=case_return.pk).update(
        status=ReturnStatus.RETURNED,
        returned_at=now,
        subscription_ref=case_return.subscription_ref,
    )
    case_return.status, case_return.returned_at = ReturnStatus.RETURNED, now
    stop_sequence(case, why="returned")
    offer = case_return.offer
    record(
        case,
        EventKind.RETURNED,
        signals.case_returned,
        actor=actor,
        data={
            "method": case_return.method,
            "source": case_return.source,
            "channel": case_return.channel,
            "followup": case_return.followup_id,
            "offer": offer.slug if offer is not None else None,
            "subscription": case_return.subscription_ref,
            "amount": _plain(case_return.offer_amount or case_return.amount),
            "currency": case_return.currency,
        },
        case_return=case_return,
    )


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
