"""The interface every subscription backend implements.

A backend translates between the app and wherever the host keeps subscriptions: its own Django
model (``backends.model``), a billing provider, or anything else. It is chosen by dotted path in
``GRACEFUL_CANCEL["SUBSCRIPTION_BACKEND"]`` and instantiated per use, without arguments.

A backend owns its settings: it declares them in ``options`` (``conf.Option``), reads them with
``self.get_option(name)`` and checks them in its ``check()`` classmethod, which the system checks
call when it is the configured backend (``conf.Configurable``; docs/backends.md, "Writing a
backend").

A backend says what it can do (``capabilities()``) before anything is promised to a customer: the
offer policy shows an offer only when the backend applies its kind itself (``can_apply``) or the
site has a fulfilment route for it (``services.fulfilment``; docs/backends.md, "Offers").

Backends raise ``exceptions.BackendError`` for any failure; ``transient=False`` tells the service
layer a retry will not help. They never change cases: the service layer does that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.checks import CheckMessage

from ..conf import Configurable, Option

if TYPE_CHECKING:
    from ..models import CancellationCase, RetentionOffer

#: ``SUBSCRIPTION_ACTIVE_STATUSES``, shared by the backends that read a status (model, Stripe).
ACTIVE_STATUSES = Option(
    ["active", "trialing", "past_due"],
    help="the status values that count as an active subscription",
    valid=lambda v: isinstance(v, (list, tuple)) and bool(v) and all(isinstance(s, str) for s in v),
    expected="a non-empty list of strings",
)


@dataclass(frozen=True)
class SubscriptionInfo:
    """What the app needs to know about one subscription, whatever stores it.

    The pages, the API and the case's snapshot read every field but ``extra``; docs/backends.md
    ("What a backend returns") says which reads which.
    """

    #: Stable reference the backend can find the subscription by again (stored on the case).
    reference: str
    #: The plan's name, as the customer knows it ("Standard").
    plan: str = ""
    #: Machine name of the plan (what a downgrade offer's "plan" parameter names).
    plan_code: str = ""
    #: What the customer pays per ``interval``, in ``currency`` (None when unknown).
    price: Decimal | None = None
    #: ISO 4217 code ("EUR"); shown next to the price.
    currency: str = ""
    #: "month", "year"...; prices are counted per month on the dashboard.
    interval: str = ""
    #: When the subscription started (for tenure), aware.
    started_at: datetime | None = None
    #: End of the paid period, aware: a cancellation "at the period end" takes effect then.
    current_period_end: datetime | None = None
    #: Whether there is anything to cancel; an inactive subscription sends the customer to
    #: "nothing to cancel".
    is_active: bool = True
    #: The subscription is already set to end (its renewal is stopped): a second cancellation is
    #: refused as "already cancelled".
    cancel_at_period_end: bool = False
    #: The billing address's country (ISO 3166-1 alpha-2, "DE"), or "" when the backend does not
    #: know it: the first thing the jurisdiction resolver reads (jurisdiction.py).
    country: str = ""
    #: The billing address's state or province ("MN", "US-MN" or "Minnesota"), or "".
    region: str = ""
    #: Anything else the backend wants to keep (Stripe: ``status``, ``item_id``, ``customer``).
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do for the subscriptions it is configured for.

    The service layer and the offer policy ask before they promise anything to a customer; the
    system checks report a configuration under which the backend cannot do what it must.
    """

    #: Offer kinds (``choices.OfferKind`` values) that ``apply_offer`` applies itself. Any other
    #: kind is shown only when the site has a fulfilment route for it (``OFFER_FULFILMENT``).
    offer_kinds: frozenset[str] = frozenset()
    #: It can stop the renewal but keep access until the paid period ends.
    cancel_at_period_end: bool = True
    #: It can end access at once.
    cancel_now: bool = True
    #: It can undo a cancellation that has not taken effect yet.
    reactivate: bool = True
    #: A cancellation stops the renewal: nothing charges the customer again. A backend without it
    #: cannot be used (the model backend's check says ``graceful_cancel.E010``).
    stop_renewal: bool = True
    #: It can resume a pause it applied before its end and extend it (``resume_pause``,
    #: ``extend_pause``): the pause reminder offers "resume now" and "extend" only then.
    pause_lifecycle: bool = False
    #: It can subscribe a former customer again after the subscription ended (``resubscribe``,
    #: ``resubscribe_quote``): the come-back link is offered only then (docs/returns.md).
    resubscribe: bool = False
    #: Offer kinds ``resubscribe`` applies to the new subscription (a win-back offer such as a
    #: first month at a lower price); a win-back message carries no other kind.
    resubscribe_offer_kinds: frozenset[str] = frozenset()

    def applies(self, kind: str) -> bool:
        return kind in self.offer_kinds


class BaseSubscriptionBackend(Configurable):
    """Subclass and implement the methods below; see docs/backends.md for a worked example."""

    #: Offer kinds ``apply_offer`` applies. Declare the kinds your ``apply_offer`` really applies:
    #: any other kind is offered only through a fulfilment route (a hook or a desk task).
    applies_offers: ClassVar[frozenset[str]] = frozenset()

    #: Whether the backend can stop renewal but keep access until the period ends. Backends that
    #: cannot (a model with no field to remember it) cancel at once, and the case says so.
    supports_period_end_cancel: bool = True

    #: Whether ``resume_pause`` and ``extend_pause`` are implemented (docs/pause.md).
    supports_pause_lifecycle: bool = False

    #: Whether ``resubscribe_quote`` and ``resubscribe`` are implemented (docs/returns.md), and
    #: the offer kinds ``resubscribe`` applies to the new subscription.
    supports_resubscribe: bool = False
    resubscribe_offers: ClassVar[frozenset[str]] = frozenset()

    def capabilities(self) -> Capabilities:
        """What this backend can do, as configured; the default reads ``applies_offers``,
        ``supports_period_end_cancel`` and ``supports_pause_lifecycle``."""
        return Capabilities(
            offer_kinds=frozenset(self.applies_offers),
            cancel_at_period_end=bool(self.supports_period_end_cancel),
            pause_lifecycle=bool(self.supports_pause_lifecycle),
            resubscribe=bool(self.supports_resubscribe),
            resubscribe_offer_kinds=frozenset(self.resubscribe_offers),
        )

    def can_apply(self, offer: RetentionOffer) -> bool:
        """Whether ``apply_offer`` applies this very offer (its kind, and its parameters where the
        backend needs them: a downgrade's plan must exist). Reads only; never writes."""
        return self.capabilities().applies(offer.kind)

    def offer_problems(self, offer: RetentionOffer) -> list[CheckMessage]:
        """System check messages about an active offer of the catalogue this backend would apply
        but cannot as configured (a downgrade to a plan that does not exist). May read the
        database; called by the catalogue check (``graceful_cancel.W011``)."""
        return []

    def get_active_subscription(self, customer: Any) -> SubscriptionInfo | None:
        """The customer's current subscription, or None when they have none to cancel."""
        raise NotImplementedError

    def get_subscription(self, reference: str) -> SubscriptionInfo | None:
        """The subscription with this reference, active or not, or None when it does not exist."""
        raise NotImplementedError

    def cancel(self, reference: str, *, at_period_end: bool, case: CancellationCase) -> None:
        """Stop the subscription, at the end of the paid period or at once."""
        raise NotImplementedError

    def reactivate(self, reference: str, *, case: CancellationCase) -> None:
        """Undo a cancellation that has not taken effect yet."""
        raise NotImplementedError

    def apply_offer(
        self, reference: str, offer: RetentionOffer, *, case: CancellationCase
    ) -> dict[str, Any]:
        """Apply an accepted offer of a kind in ``capabilities().offer_kinds``; return what was
        done (stored on the presentation as ``applied``, read by the saved page).

        Called inside the transaction that saves the case, and only for offers ``can_apply``
        accepts: offers of other kinds go to the site's fulfilment route instead. Raise
        ``BackendError`` to refuse (``transient=False`` when a retry cannot help). The keys the
        pages read are listed in docs/backends.md ("What apply_offer returns").
        """
        return {"kind": offer.kind, "applied_by": "signal"}

    # --- pauses (docs/pause.md) ---------------------------------------------------------------
    # Called by services.pauses inside the transaction that records the change; ``pause`` is the
    # ``models.Pause`` (its ``ends_at`` is still the old end). Return what was done (kept in the
    # timeline event); raise ``BackendError`` to refuse.

    def resume_pause(self, reference: str, *, case: CancellationCase, pause: Any) -> dict[str, Any]:
        """The customer resumes before the pause ends: billing starts again now."""
        raise NotImplementedError

    def extend_pause(
        self, reference: str, *, case: CancellationCase, pause: Any, ends_at: datetime
    ) -> dict[str, Any]:
        """Move the end of the running pause to ``ends_at`` (later than ``pause.ends_at``)."""
        raise NotImplementedError

    def finish_pause(self, reference: str, *, case: CancellationCase, pause: Any) -> dict[str, Any]:
        """The pause reached its end (the sweep calls this once): resume where the provider does
        not do it by itself. The default does nothing: the period end already moved."""
        return {}

    # --- returns (docs/returns.md) ------------------------------------------------------------
    # A former customer comes back after the subscription ended. ``resubscribe_quote`` reads only
    # and says exactly what the confirmation page shows; ``resubscribe`` is called once the
    # customer confirmed, inside the transaction that records the return, with a key the backend
    # passes to the provider so a retry never subscribes twice.

    def resubscribe_quote(
        self, case: CancellationCase, *, offer: RetentionOffer | None = None
    ) -> ResubscribeQuote | None:
        """What coming back costs for ``case``'s customer (the plan they left, at today's price),
        with ``offer`` applied; None when they cannot come back this way (no plan, no customer at
        the provider). Reads only."""
        raise NotImplementedError

    def resubscribe(
        self,
        case: CancellationCase,
        *,
        quote: ResubscribeQuote,
        offer: RetentionOffer | None,
        idempotency_key: str,
        return_url: str,
    ) -> ResubscribeResult:
        """Subscribe the customer again as ``quote`` says. Return the new subscription
        (``method="subscription"`` or ``"hook"``), or a page the customer must complete
        (``"checkout"``, ``"redirect"``: ``redirect_url``), to which the provider sends them back
        at ``return_url``. Raise ``BackendError`` to refuse."""
        raise NotImplementedError

    def resubscribe_completed(self, case: CancellationCase, checkout_ref: str) -> str | None:
        """For a ``"checkout"`` return: the new subscription's reference once the customer has
        completed the checkout ``checkout_ref``, else None (not paid yet). Reads only."""
        return None


@dataclass(frozen=True)
class ResubscribeQuote:
    """What the come-back confirmation page says will be charged, and when."""

    #: The plan the customer would have again, as they know it, and its code.
    plan: str
    plan_code: str
    #: The regular price per ``interval``, in ``currency`` (ISO 4217).
    amount: Decimal
    currency: str
    interval: str
    #: When the first charge happens (aware; "now" for a subscription that starts at once).
    first_charge_at: datetime
    #: The first charge with the win-back offer, or None without one.
    offer_amount: Decimal | None = None
    #: How many charges the offer price lasts (1: the first only).
    offer_periods: int = 1
    #: The customer has no saved payment method: they complete a checkout page instead.
    needs_checkout: bool = False
    #: Anything the backend keeps for ``resubscribe`` (Stripe: the price and customer ids).
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ResubscribeResult:
    """What ``resubscribe`` did (``choices.ReturnMethod`` values)."""

    method: str
    #: The new subscription's reference ("" until a checkout is completed).
    reference: str = ""
    #: Where the customer goes next for ``"checkout"`` and ``"redirect"``.
    redirect_url: str = ""
    #: The checkout session, for ``resubscribe_completed``.
    checkout_ref: str = ""
