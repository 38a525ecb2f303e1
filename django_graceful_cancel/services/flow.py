"""The customer's steps, one entry each, called by the pages (``views.py``) and the API
(``api/views.py``) alike.

* start: ``start_case`` (page ``start``; ``POST cases/``);
* reason and offer: ``check_reason`` then ``submit_reason`` (page ``start`` with
  ``action=continue``; ``POST cases/{reference}/reason/``);
* cancel at once: ``lenient_reason`` then ``cancel_now`` (page ``start`` with ``action=cancel``);
* accept the offer: ``accept_offer`` (page ``accept``; ``accept-offer/``);
* decline the offer: ``decline_offer`` (``decline-offer/``; on the page, ``confirm`` declines it);
* confirm: ``confirm_cancellation`` (page ``confirm``; ``confirm/``);
* reactivate: ``reactivate`` (page ``reactivate``; ``reactivate/``);
* once cancelled, where the profile lets the customer ask for an offer (us-mn): the question
  ``offer_question_open``, "yes" ``hear_offer`` (page ``offer_question``; ``hear-offer/``), then
  ``accept_offer`` (which reactivates) or ``decline_offer``, as above
  (``services.offer_question``).

The case's jurisdiction is resolved by the caller from the customer and the request
(``jurisdiction.resolve_jurisdiction``) and handed to ``start_case``, which records it and the
profile it maps to.

A step that is a single state change is that change itself (``services.cases``), listed here so
the flow reads in one place. The input rules of a step live here too, not in the form or the
serializer: ``check_reason`` raises ``InvalidInput`` naming every field that breaks a rule, and
forms and serializers only parse types and put those errors on their fields.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ..choices import CaseStatus, Channel
from ..compliance import rules_for
from ..exceptions import FieldError, InvalidInput, InvalidTransition, UnknownReason
from ..models import CancellationCase, OfferPresentation, Reason
from . import cases, offer_question, questions
from .cases import (
    DETAIL_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    confirm_cancellation,
    present_offer,
    reactivate,
    record_reason,
    resolve_reason,
    start_case,
)
from .core import Actor
from .inputs import check_phone, check_text
from .offer_question import decline_offer_question, hear_offer, offer_question_open

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
    "decline_offer_question",
    "hear_offer",
    "lenient_reason",
    "offer_question_open",
    "reactivate",
    "start_case",
    "submit_reason",
]

#: Channels that reach the customer by phone: with consent, they need a number.
PHONE_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP, Channel.PHONE})
PHONE_REQUIRED = _("Please give a phone number for this channel.")

#: The fields of the reason step.
#: ``answers``: the reason's follow-up questions (services/questions.py).
REASON_FIELDS = (
    "reason",
    "detail",
    "preferred_channel",
    "contact_consent",
    "contact_phone",
    "answers",
)

#: What ``lenient_reason`` puts in place of a field that breaks a rule.
_DROPPED: dict[str, dict[str, Any]] = {
    "reason": {"reason": None},
    "detail": {"detail": ""},
    "preferred_channel": {"preferred_channel": Channel.EMAIL, "contact_phone": ""},
    "contact_phone": {"preferred_channel": Channel.EMAIL, "contact_phone": ""},
    "contact_consent": {"contact_consent": False},
    "answers": {"answers": None},
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
    #: The checked answers to the reason's follow-up questions (``questions.check_answers``).
    answers: tuple[questions.CheckedAnswer, ...] = ()

    @property
    def says_something(self) -> bool:
        """Whether there is anything to record: a reason, words of their own, consent, or
        answers to the reason's questions."""
        return bool(self.reason or self.detail or self.contact_consent or self.answers)


def check_reason(
    reason: Reason | str | None = None,
    *,
    detail: str | None = "",
    preferred_channel: str | None = None,
    contact_consent: bool = False,
    contact_phone: str | None = "",
    current_channel: str = Channel.EMAIL,
    answers: Mapping[str, Any] | None = None,
) -> ReasonAnswer:
    """The answer to the reason step, checked; raises ``InvalidInput`` naming every bad field.

    * ``reason``: empty, or an active reason of the catalogue (a slug or a ``Reason``);
    * ``detail``: free text without NUL or lone surrogates (``inputs.check_text``);
    * ``contact_phone``: empty, or a valid phone number (``inputs.check_phone``: parsed with
      ``phonenumbers``, returned in E.164); required with consent when the channel
      (``preferred_channel``, else the case's ``current_channel``) reaches the customer by
      phone: SMS, WhatsApp or a call;
    * ``answers``: answers to the reason's follow-up questions by key
      (``questions.check_answers``; errors on ``answers.<key>``).

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
    checked: tuple[questions.CheckedAnswer, ...] = ()
    try:
        checked = questions.check_answers(found, answers)
    except InvalidInput as error:
        errors.update(error.errors)
    if errors:
        raise InvalidInput(errors)
    return ReasonAnswer(
        reason=found,
        detail=detail,
        preferred_channel=preferred_channel or None,
        contact_consent=bool(contact_consent),
        contact_phone=phone,
        answers=checked,
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
            # "answers.<key>": one bad answer drops the answers (questions.field_name).
            values.update(_DROPPED.get(name.split(".")[0], {}))

    drop(invalid)
    try:
        return check_reason(**values)
    except InvalidInput as error:
        drop(error.errors)
    return check_reason(**values)


def record_answer(
    case: CancellationCase, answer: ReasonAnswer, *, actor: Actor = None
) -> CancellationCase:
    """Record what the customer answered on the reason step (``record_reason``), and their
    answers to the reason's questions with it, in one transaction (``questions.record_answers``;
    without answers, the step costs what it did before)."""
    if not answer.answers:
        return _record_reason(case, answer, actor=actor)
    with transaction.atomic():
        case = _record_reason(case, answer, actor=actor)
        questions.record_answers(case, answer.answers, actor=actor)
    return case


def _record_reason(
    case: CancellationCase, answer: ReasonAnswer, *, actor: Actor = None
) -> CancellationCase:
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
        if answer.answers and not rules_for(case.compliance_profile).questions:
            # Questions the profile does not ask are dropped, never a reason to refuse.
            answer = dataclasses.replace(answer, answers=())
        with contextlib.suppress(UnknownReason, InvalidTransition, InvalidInput):
            record_answer(case, answer, actor=actor)
    return confirm_cancellation(case, actor=actor)


def accept_offer(case: CancellationCase, *, actor: Actor = None) -> CancellationCase:
    """Accept the offer shown: before the confirmation it saves the case
    (``cases.accept_offer``); after it (us-mn, heard on request) it reactivates the subscription
    with the offer (``offer_question.accept_offer_after_confirmation``)."""
    if _after_confirmation(case):
        return offer_question.accept_offer_after_confirmation(case, actor=actor)
    return cases.accept_offer(case, actor=actor)


def decline_offer(case: CancellationCase, *, actor: Actor = None) -> CancellationCase:
    """Decline the offer shown: an open case stays open with its cancel button; a cancelled one
    (us-mn) stays cancelled."""
    if _after_confirmation(case):
        return offer_question.decline_offer_after_confirmation(case, actor=actor)
    return cases.decline_offer(case, actor=actor)


def _after_confirmation(case: CancellationCase) -> bool:
    """Whether ``case`` is cancelled under a profile that offers after the confirmation (any
    other closed case gets the usual "case_not_open"). Reads the instance the caller just
    fetched, so it costs no query; the service it picks locks the row and checks again."""
    return (
        case.status == CaseStatus.CANCELLED
        and rules_for(case.compliance_profile).offer_after_confirm
    )
