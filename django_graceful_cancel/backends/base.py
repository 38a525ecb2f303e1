"""The interface every subscription backend implements.

A backend translates between the app and wherever the host keeps subscriptions: its own Django
model (``backends.model``), a billing provider, or anything else. It is chosen by dotted path in
``GRACEFUL_CANCEL["SUBSCRIPTION_BACKEND"]`` and instantiated per use, without arguments.

A backend owns its settings: it declares them in ``options`` (``conf.Option``), reads them with
``self.get_option(name)`` and checks them in its ``check()`` classmethod, which the system checks
call when it is the configured backend (``conf.Configurable``; docs/backends.md, "Writing a
backend").

Backends raise ``exceptions.BackendError`` for any failure; ``transient=False`` tells the service
layer a retry will not help. They never change cases: the service layer does that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

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
    """What the app needs to know about one subscription, whatever stores it."""

    #: Stable reference the backend can find the subscription by again (stored on the case).
    reference: str
    plan: str = ""
    #: Machine name of the plan (what a downgrade offer's "plan" parameter names).
    plan_code: str = ""
    price: Decimal | None = None
    currency: str = ""
    interval: str = ""
    started_at: datetime | None = None
    current_period_end: datetime | None = None
    is_active: bool = True
    #: The subscription is already set to end at the period end.
    cancel_at_period_end: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


class BaseSubscriptionBackend(Configurable):
    """Subclass and implement the methods below; see docs/backends.md for a worked example."""

    #: Whether the backend can stop renewal but keep access until the period ends. Backends that
    #: cannot (a model with no field to remember it) cancel at once, and the case says so.
    supports_period_end_cancel: bool = True

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
        """Apply an accepted offer; return what was done (stored on the presentation).

        The default records the offer and changes nothing: a host grants such offers through
        the ``offer_accepted`` signal. Backends override it for the kinds they can apply.
        """
        return {"kind": offer.kind, "applied_by": "signal"}
