"""The customer's steps, one entry each, called by the pages (``views.py``) and the API
(``api/views.py``) alike.

* start: ``start_case`` (page ``start``; ``POST cases/``);
* reason and offer: ``check_reason`` then ``submit_reason`` (page ``start`` with
  ``action=continue``; ``POST cases/{reference}/reason/``);
* cancel at once: ``lenient_reason`` then ``cancel_now`` (page ``start`` with ``action=cancel``);
* accept the offer: ``accept_offer`` (page ``accept``; ``accept-offer/``);
* decline the offer: ``decline_offer`` (``decline-offer/``; on the page, ``confirm`` declines it);
* confirm: ``confirm_cancellation`` (page ``confirm``; ``confirm/``);
* reactivate: ``reactivate`` (page ``reactivate``; ``reactivate/``).

A step that is a single state change is that change itself (``services.cases``), listed here so
the flow reads in one place. The input rules of a step live here too, not in the form or the
serializer: ``check_reason`` raises ``InvalidInput`` naming every field that breaks a rule, and
forms and serializers only parse types and put those errors on their fields.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from ..choices import Channel
from ..exceptions import FieldError, InvalidInput, InvalidTransition, UnknownReason
from ..models import CancellationCase, OfferPresentation, Reason
from .cases import (
    DETAIL_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    accept_offer,
    confirm_cancellation,
    decline_offer,
    present_offer,
    reactivate,
    record_reason,
    resolve_reason,
    start_case,
)
from .core import Actor
from .inputs import check_phone, check_text

__all__ = [
    "DETAIL_MAX_LENGTH",
    "PHONE_CHANNELS",
    "PHONE_MAX_LENGTH",
    "REASON_FIELDS",
    "ReasonAnswer",
    "accept_offer",
    "cancel_now",
    "check_reason",
    "confirm_cancellation",
    "decline_offer",
    "lenient_reason",
    "reactivate",
    "start_case",
    "submit_reason",
]

#: Channels that reach the customer by phone: with consent, they need a number.
PHONE_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP, Channel.PHONE})
PHONE_REQUIRED = _("Please give a phone number for this channel.")

#: The fields of the reason step.
REASON_FIELDS = ("reason", "detail", "preferred_channel", "contact_consent", "contact_phone")

#: What ``lenient_reason`` puts in place of a field that breaks a rule.
_DROPPED: dict[str, dict[str, Any]] = {
    "reason": {"reason": None},
    "detail": {"detail": ""},
    "preferred_channel": {"preferred_channel": Channel.EMAIL, "contact_phone": ""},
    "contact_phone": {"preferred_channel": Channel.EMAIL, "contact_phone": ""},
    "contact_consent": {"contact_consent": False},
}


@dataclass(frozen=True)
class ReasonAnswer:
    """The customer's answer to the reason step, checked by ``check_reason``.

    ``preferred_channel`` None keeps the case's channel.
    """

    reason: Reason | None = None
    detail: str = ""
    preferred_channel: str | None = None
    contact_consent: bool = False
    contact_phone: str = ""

    @property
    def says_something(self) -> bool:
        """Whether there is anything to record: a reason, words of their own, or consent."""
        return bool(self.reason or self.detail or self.contact_consent)


def check_reason(
    reason: Reason | str | None = None,
    *,
    detail: str | None = "",
    preferred_channel: str | None = None,
    contact_consent: bool = False,
    contact_phone: str | None = "",
    current_channel: str = Channel.EMAIL,
) -> ReasonAnswer:
    """The answer to the reason step, checked; raises ``InvalidInput`` naming every bad field.

    * ``reason``: empty, or an active reason of the catalogue (a slug or a ``Reason``);
    * ``detail``: free text without NUL or lone surrogates (``inputs.check_text``);
    * ``contact_phone``: empty, or a valid phone number (``inputs.check_phone``: parsed with
      ``phonenumbers``, returned in E.164); required with consent when the channel
      (``preferred_channel``, else the case's ``current_channel``) reaches the customer by
      phone: SMS, WhatsApp or a call.

    Only reads. Types and lengths are the caller's to parse (form or serializer fields).
    """
    errors: dict[str, list[FieldError]] = {}

    def check(field: str, rule: Any, value: Any) -> Any:
        try:
            return rule(value, field=field)
        except InvalidInput as error:
            errors.update(error.errors)
            return ""

    try:
        found = resolve_reason(reason)
        if found is not None and not found.is_active:
            raise UnknownReason()
    except UnknownReason as error:
        errors["reason"] = [FieldError(error.code, error.message)]
        found = None
    detail = check("detail", check_text, (detail or "").strip())
    phone = check("contact_phone", check_phone, contact_phone)
    channel = preferred_channel or current_channel
    if (
        contact_consent
        and channel in PHONE_CHANNELS
        and not phone
        and "contact_phone" not in errors
    ):
        errors["contact_phone"] = [FieldError("phone_required", PHONE_REQUIRED)]
    if errors:
        raise InvalidInput(errors)
    return ReasonAnswer(
        reason=found,
        detail=detail,
        preferred_channel=preferred_channel or None,
        contact_consent=bool(contact_consent),
        contact_phone=phone,
    )


def lenient_reason(fields: Mapping[str, Any], *, invalid: Iterable[str] = ()) -> ReasonAnswer:
    """What can be kept of an answer when the customer cancels straight away.

    Every field that breaks a rule, or that the caller could not parse (``invalid``), is dropped:
    a bad optional answer never stands between the customer and the cancel button. A dropped
    channel or phone number falls back to email.
    """
    values = {name: fields[name] for name in REASON_FIELDS if name in fields}

    def drop(names: Iterable[str]) -> None:
        for name in names:
            values.update(_DROPPED.get(name, {}))

    drop(invalid)
    try:
        return check_reason(**values)
    except InvalidInput as error:
        drop(error.errors)
    return check_reason(**values)


def record_answer(
    case: CancellationCase, answer: ReasonAnswer, *, actor: Actor = None
) -> CancellationCase:
    """Record what the customer answered on the reason step (``record_reason``)."""
    return record_reason(
        case,
        answer.reason,
        detail=answer.detail,
        preferred_channel=answer.preferred_channel,
        contact_consent=answer.contact_consent,
        contact_phone=answer.contact_phone,
        actor=actor,
    )


def submit_reason(
    case: CancellationCase, answer: ReasonAnswer, *, actor: Actor = None
) -> tuple[CancellationCase, OfferPresentation | None]:
    """The reason step: record the answer, then present the offer the policy chooses (if any).

    Returns the case and its presentation (None when it gets no offer). Raises
    ``InvalidTransition`` when the case is no longer open.
    """
    case = record_answer(case, answer, actor=actor)
    return case, present_offer(case, actor=actor)


def cancel_now(
    case: CancellationCase, answer: ReasonAnswer | None = None, *, actor: Actor = None
) -> CancellationCase:
    """Cancel at once, keeping what the customer said (``lenient_reason``) if anything.

    Recording the answer never blocks the cancellation. Raises ``InvalidTransition`` when the
    case is no longer open (already decided).
    """
    if answer is not None and answer.says_something:
        with contextlib.suppress(UnknownReason, InvalidTransition):
            record_answer(case, answer, actor=actor)
    return confirm_cancellation(case, actor=actor)
