"""Stand-in subscription backends, named by dotted path in ``SUBSCRIPTION_BACKEND``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from django_graceful_cancel.backends.model import ModelSubscriptionBackend
from django_graceful_cancel.choices import OfferKind
from django_graceful_cancel.exceptions import BackendError


class FailingBackend(ModelSubscriptionBackend):
    """The model backend with scripted provider failures: ``failures["cancel"]`` transient
    errors on cancel, ``failures["reactivate_times_out"]`` reactivations applied but never
    answered; applying an offer always fails."""

    failures = {"cancel": 0}
    #: A provider that applies every kind of offer itself (and fails to).
    applies_offers = frozenset(OfferKind.values)

    def cancel(self, reference: str, *, at_period_end: bool, case: Any) -> None:
        if FailingBackend.failures["cancel"] > 0:
            FailingBackend.failures["cancel"] -= 1
            raise BackendError("provider down", transient=True)
        super().cancel(reference, at_period_end=at_period_end, case=case)

    def reactivate(self, reference: str, *, case: Any) -> None:
        super().reactivate(reference, case=case)
        if FailingBackend.failures.get("reactivate_times_out", 0) > 0:
            # Applied at the provider, but the answer never came back.
            FailingBackend.failures["reactivate_times_out"] -= 1
            raise BackendError("timed out", transient=True)

    def apply_offer(self, reference: str, offer: Any, *, case: Any) -> dict[str, Any]:
        raise BackendError("coupon service down")


class ProviderDown(ModelSubscriptionBackend):
    """A provider that times out applying offers, and on reading the customer ``unlucky``."""

    transient = True
    applies_offers = frozenset(OfferKind.values)

    def apply_offer(self, reference: str, offer: Any, *, case: Any) -> dict[str, Any]:
        raise BackendError("coupon service timed out: internal-host:8443", transient=self.transient)

    def get_active_subscription(self, customer: Any) -> Any:
        if getattr(customer, "username", "") == "unlucky":
            raise BackendError("billing API down", transient=self.transient)
        return super().get_active_subscription(customer)


class ProviderRefuses(ProviderDown):
    """``ProviderDown`` whose errors are permanent refusals."""

    transient = False


class MisconfiguredBackend(ModelSubscriptionBackend):
    """The model backend with a renewal field path that passed the checks but cannot be written
    (issue 13): cancelling and reactivating raise ``ImproperlyConfigured`` after the commit."""

    def cancel(self, reference: str, *, at_period_end: bool, case: Any) -> None:
        raise ImproperlyConfigured("SUBSCRIPTION_FIELDS['auto_renew'] must be a field, not a path.")

    def reactivate(self, reference: str, *, case: Any) -> None:
        raise ImproperlyConfigured("SUBSCRIPTION_FIELDS['auto_renew'] must be a field, not a path.")
