"""Domain errors raised by the service layer and the subscription backends.

Every error carries a stable machine-readable ``code`` (the API returns it, the pages map it to a
message) and a human, translatable ``message``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _


class GracefulCancelError(Exception):
    code = "error"
    default_message = _("Something went wrong with this cancellation.")

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        if code is not None:
            self.code = code
        super().__init__(str(self.message))


class InvalidTransition(GracefulCancelError):
    """The case is not in a state that allows the requested change."""

    code = "invalid_transition"
    default_message = _("This case can no longer be changed that way.")


class NoActiveSubscription(GracefulCancelError):
    code = "no_active_subscription"
    default_message = _("You have no active subscription to cancel.")


@dataclass(frozen=True)
class FieldError:
    """One broken input rule: a stable ``code`` and a human, translatable ``message``."""

    code: str
    message: Any  # str or a lazy translation


class InvalidInput(GracefulCancelError):
    """What the customer sent breaks an input rule of the step; nothing was changed.

    ``errors`` maps each field name to its ``FieldError``s. The pages show them on the form's
    fields (a form may word a code its own way), the API answers 400 with DRF's field-error body
    ``{"field": ["message"]}``.
    """

    code = "invalid_input"

    def __init__(self, errors: Mapping[str, Sequence[FieldError]]) -> None:
        self.errors: dict[str, list[FieldError]] = {
            field: list(found) for field, found in errors.items() if found
        }
        if not self.errors:
            raise ValueError("InvalidInput needs at least one field error.")
        first = next(iter(self.errors.values()))[0]
        super().__init__(first.message)

    @classmethod
    def single(cls, field: str, code: str, message: Any) -> InvalidInput:
        return cls({field: [FieldError(code, message)]})


class UnknownReason(GracefulCancelError):
    code = "unknown_reason"
    default_message = _("That reason is not in the catalogue.")


class BackendError(GracefulCancelError):
    """The subscription provider refused or failed an operation.

    ``transient`` tells callers whether a retry may succeed (network trouble, rate limits) or not
    (a card declined, an unknown subscription).
    """

    code = "backend_error"
    default_message = _("The subscription provider could not complete the request.")

    def __init__(
        self, message: str | None = None, *, code: str | None = None, transient: bool = True
    ) -> None:
        super().__init__(message, code=code)
        self.transient = transient


class OfferNotApplicable(BackendError):
    """An accepted offer cannot be applied, and trying again will not change that (the plan it
    names does not exist, a hook refused it): nothing was changed, the customer can still cancel.
    """

    code = "offer_not_applicable"
    default_message = _(
        "This offer can't be applied to your subscription, so nothing was changed. You can keep "
        "your subscription as it is, or cancel it."
    )

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message, code=code, transient=False)


class RateLimited(GracefulCancelError):
    """Too many requests from one address (the public declaration page)."""

    code = "rate_limited"
    default_message = _("Too many requests. Please wait a while and try again.")
