"""Signals sent by the service layer after each state change.

Every signal here is sent **after the commit** of the transaction that made the change (at once
when there is no transaction), with ``sender`` set to the ``CancellationCase`` class (or the model
named below). A receiver that raises is logged with its traceback on the
``"django_graceful_cancel"`` logger and never propagates: it cannot roll back what the customer
(or staff) did, nor turn the page or the API response into an error, and the other receivers
still run. Receivers must accept ``**kwargs``: new arguments may be added.

Common arguments: ``case`` (the ``CancellationCase``) and ``actor`` (the user who acted, a string
such as ``"system"``, or ``None``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import Signal as DjangoSignal

logger = logging.getLogger("django_graceful_cancel")


class Signal(DjangoSignal):
    """A signal about a committed change: ``send()`` delivers it once the transaction commits.

    Delivery is ``send_robust()``: a receiver that raises is logged (with the exception) and the
    others still run. A transaction rolled back delivers nothing. ``send()`` returns an empty
    list: the receivers have not run yet when it returns.
    """

    #: The signal's name in this module (set below), for the log.
    name: str = ""

    def send(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        transaction.on_commit(_Delivery(self, sender, named), robust=True)
        return []

    def deliver(self, sender: Any, **named: Any) -> None:
        """Call every receiver now; log those that raise."""
        for receiver, result in self.send_robust(sender, **named):
            if isinstance(result, Exception):
                logger.error(
                    "A receiver of the %s signal raised %r; the change it was told about stands.",
                    self.name or "graceful_cancel",
                    result,
                    exc_info=(type(result), result, result.__traceback__),
                    extra={"receiver": getattr(receiver, "__qualname__", repr(receiver))},
                )


class _Delivery:
    """One deferred delivery; runs at most once (a test may execute on-commit callbacks twice)."""

    def __init__(self, signal: Signal, sender: Any, named: dict[str, Any]) -> None:
        self.signal, self.sender, self.named = signal, sender, named
        self.done = False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self.signal.deliver(self.sender, **self.named)


#: A case was created. Args: ``case``, ``actor``.
case_started = Signal()
#: The customer stated (or changed) a reason. Args: ``case``, ``actor``, ``reason`` (or None).
reason_recorded = Signal()
#: The offer policy chose an offer and it was shown. Args: ``case``, ``actor``, ``presentation``.
offer_presented = Signal()
#: The customer accepted the offer; the backend, the site's hook or a desk task for staff took it
#: (docs/backends.md, "Offers"). Args: ``case``, ``actor``, ``presentation``, ``applied`` (what
#: was done: the dict the backend or the hook returned, or the desk task's due date).
offer_accepted = Signal()
#: The customer declined the offer. Args: ``case``, ``actor``, ``presentation``.
offer_declined = Signal()
#: Once cancelled under us-mn, the customer answered "no, thanks" to "Would you like to hear an
#: offer?" (services/offer_question.py); nothing else changes. Args: ``case``, ``actor``.
offer_question_declined = Signal()
#: The cancellation was confirmed. Args: ``case``, ``actor``.
case_cancelled = Signal()
#: A cancelled case was reactivated. Args: ``case``, ``actor``.
case_reactivated = Signal()
#: An open case was left without a decision. Args: ``case``, ``actor``.
case_abandoned = Signal()
#: A former customer came back after the subscription ended (services/returns.py). Args:
#: ``case``, ``actor``, ``case_return`` (the ``CaseReturn``: how, and which message, channel and
#: win-back offer led to it).
case_returned = Signal()
#: The subscription backend applied the cancellation. Args: ``case``, ``actor``.
provider_synced = Signal()
#: The subscription backend failed; the case stays cancelled, sync pending. Args: ``case``,
#: ``actor``, ``error`` (the BackendError), ``needs_attention`` (True once the attempts reached
#: ``PROVIDER_SYNC_MAX_ATTEMPTS``: a person should look at the case).
provider_sync_failed = Signal()
#: The customer answered (or changed, or cleared) the reason's follow-up questions
#: (services/questions.py). Args: ``case``, ``actor``, ``answers`` (the ``QuestionAnswer`` rows
#: the case now has for its reason's questions).
questions_answered = Signal()
#: Staff took or assigned a case. Args: ``case``, ``actor``, ``owner``.
owner_assigned = Signal()
#: Staff recorded the root cause. Args: ``case``, ``actor``, ``root_cause``.
root_cause_set = Signal()
#: Staff accepted a suggestion of the private classifier (insights/suggestions.py): the case's
#: reason or root cause now says what it suggested. Args: ``case``, ``actor``, ``suggestion``.
suggestion_accepted = Signal()
#: Staff rejected a suggestion of the private classifier; the case is unchanged. Args: ``case``,
#: ``actor``, ``suggestion``.
suggestion_rejected = Signal()

# --- Billing provider (services/external.py) -----------------------------------------------------
# A cancellation or reactivation made at the provider (e.g. Stripe's customer portal) that moves
# a case sends ``case_cancelled`` / ``case_reactivated`` with two extra arguments,
# ``external=True`` and ``source`` (e.g. "stripe"), so existing receivers keep working.
#: The provider reported a change the case records without changing its status. Args: ``case``,
#: ``actor``, ``change`` ("cancelled", "ended_early", "sync_completed" or "reactivated"),
#: ``source`` (e.g. "stripe"), ``event_id`` (the provider's event id, or "").
external_change_recorded = Signal()

# --- Retention desk and privacy (services/desk.py, services/privacy.py) ------------------------
#: Staff wrote a note on a case. Args: ``case``, ``actor``, ``note``.
note_added = Signal()
#: Staff called the customer. Args: ``case``, ``actor``, ``outcome`` (free text, may be empty).
call_done = Signal()
#: Staff scheduled a cancelled case's follow-up sequence. Args: ``case``, ``actor``,
#: ``followups`` (the ``FollowUp`` rows created; empty when every stage was already scheduled).
followups_scheduled = Signal()
#: Staff cancelled the case's follow-ups not sent yet (and its open call tasks). Args: ``case``,
#: ``actor``, ``cancelled`` (how many follow-ups were cancelled).
followups_cancelled = Signal()
#: A desk task to apply an accepted offer (``FulfilmentTask``) was given to a staff member.
#: Args: ``case``, ``actor``, ``task``, ``owner`` (or None when released).
fulfilment_assigned = Signal()
#: Staff applied an accepted offer and marked its desk task done. Args: ``case``, ``actor``,
#: ``task`` (the ``FulfilmentTask``, with ``note``).
offer_fulfilled = Signal()
#: A saved case's subscription was checked N days later. Args: ``case``, ``actor``, ``check``.
save_checked = Signal()
#: A customer's data was exported. ``sender`` is ``PrivacyRequest``. Args: ``customer``,
#: ``actor``, ``request`` (the ``PrivacyRequest``).
customer_exported = Signal()
#: A customer's personal data was erased from their cases. ``sender`` is ``PrivacyRequest``.
#: Args: ``customer_id``, ``actor``, ``request``, ``case_ids``.
customer_erased = Signal()
#: Old closed cases were deleted. ``sender`` is ``PrivacyRequest``. Args: ``actor``, ``request``.
cases_purged = Signal()

# --- Pauses (services/pauses.py, docs/pause.md) ------------------------------------------------
#: A pause began (an accepted pause offer the backend applied). Args: ``case``, ``actor``,
#: ``pause`` (the ``models.Pause``: ``starts_at``, ``ends_at``).
pause_started = Signal()
#: The customer extended a running pause. Args: ``case``, ``actor``, ``pause`` (its new
#: ``ends_at``), ``days`` (added).
pause_extended = Signal()
#: A pause ended and billing restarted. Args: ``case``, ``actor``, ``pause`` (``state``:
#: ``resumed_early`` or ``resumed_on_schedule``), ``early`` (bool).
pause_resumed = Signal()
#: The subscription was cancelled while paused. Args: ``case`` (the pause's case), ``actor``,
#: ``pause``, ``cancelled_case`` (the case that cancelled it, or None when the provider did).
pause_cancelled = Signal()

# --- Customers who went dark (services/reach.py) ------------------------------------------------
#: A went-dark case became a desk task. Args: ``case``, ``actor``, ``task`` (``ReachOutTask``).
reach_out_created = Signal()
#: Staff recorded how reaching the customer went. Args: ``case``, ``actor``, ``task`` (with
#: ``outcome`` and ``note``).
reach_out_done = Signal()

# --- No-login declarations (services/declarations.py) -------------------------------------------
#: A declaration that arrived on the public page has been matched (or not), right after the
#: page answered. ``sender`` is ``CancellationDeclaration``. Args: ``declaration`` (its
#: ``status`` says what happened: ``matched``, ``pending`` or ``recorded``), ``case`` (the
#: cancelled case when it was matched; when it was recorded for staff, None, or the case left
#: open for them; None while it waits for the account holder).
declaration_received = Signal()
#: A waiting (``pending``) declaration was made effective by the account holder's confirmation
#: link or by staff. ``sender`` is ``CancellationDeclaration``. Args: ``declaration``, ``case``
#: (the cancelled case, or None when there was nothing left to cancel), ``actor``.
declaration_confirmed = Signal()
#: The account holder said "this was not me". ``sender`` is ``CancellationDeclaration``. Args:
#: ``declaration``, ``case`` (or None), ``reactivated`` (whether the cancellation was undone).
declaration_disputed = Signal()

# --- The withdrawal function (services/withdrawals.py) ------------------------------------------
#: The customer withdrew from the contract (CRD art. 11a): the case is ``withdrawn`` and the
#: subscription ends at once. Args: ``case``, ``actor``, ``withdrawal`` (the ``Withdrawal``).
case_withdrawn = Signal()
#: Staff recorded the refund a withdrawal calls for. Args: ``case``, ``actor``, ``withdrawal``.
withdrawal_refunded = Signal()

# --- Follow-ups (services/followups.py) ---------------------------------------------------------
#: A follow-up left on its channel. ``sender`` is ``FollowUp``. Args: ``followup``, ``case``.
followup_sent = Signal()
#: A follow-up's delivery status changed (delivered, opened, bounced, failed). ``sender`` is
#: ``FollowUp``. Args: ``followup``, ``case``, ``status``, ``event`` (anymail's
#: ``AnymailTrackingEvent``, or None when the change was not reported by the ESP).
followup_status_changed = Signal()
#: A customer opted out of follow-ups. ``sender`` is ``OptOut``. Args: ``customer_id``,
#: ``channel`` ("" for every channel), ``source`` ("link", "bounce", "complaint",
#: "unsubscribe", ...), ``case`` (or None), ``actor``.
opted_out = Signal()
#: The customer answered the satisfaction survey. Args: ``case``, ``actor``, ``score`` (0-10),
#: ``comment``.
survey_answered = Signal()

# Each signal knows its name, for the log line of a receiver that raised.
for _name, _value in list(globals().items()):
    if isinstance(_value, Signal):
        _value.name = _name
del _name, _value
