"""The service layer's public use cases: the only code that changes a case.

Views, the API, the admin, tasks and management commands call these; each runs in one
transaction, writes a timeline event and sends a signal (see ``services/core.py``). Import them
from here::

    from django_graceful_cancel import services
    services.confirm_cancellation(case, actor=request.user)

Worker internals (the follow-up outbox, the provider-sync queue) are not re-exported: they live in
``django_graceful_cancel.followups.outbox`` and ``services.cases``.

The names are resolved lazily (PEP 562), so importing one service module, or the follow-up
engine that builds on ``services.core``, never loads the whole layer and no import cycle forms.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

#: Public use case -> the module that defines it.
_EXPORTS: dict[str, str] = {
    # The customer's flow (page and API call the same entries).
    "start_case": ".cases",
    "submit_reason": ".flow",
    "cancel_now": ".flow",
    "record_reason": ".cases",
    # A reason's follow-up questions (docs/questions.md).
    "record_answers": ".questions",
    "answers_by_question": ".questions",
    "present_offer": ".cases",
    # Before the confirmation (cases) or, once cancelled under us-mn, after it (offer_question).
    "accept_offer": ".flow",
    "decline_offer": ".flow",
    "hear_offer": ".offer_question",
    "decline_offer_question": ".offer_question",
    "offer_question_open": ".offer_question",
    "confirm_cancellation": ".cases",
    "reactivate": ".cases",
    "effective_for": ".cases",
    # Housekeeping.
    "abandon": ".cases",
    "abandon_stale": ".cases",
    "retry_provider_sync": ".cases",
    # The retention desk.
    "assign_owner": ".cases",
    "set_root_cause": ".cases",
    "add_note": ".desk",
    "mark_call_done": ".desk",
    "mark_fulfilment_done": ".fulfilment",
    "assign_fulfilment_task": ".fulfilment",
    "schedule_followups": ".desk",
    "cancel_followups": ".desk",
    "check_save": ".desk",
    "run_save_checks": ".desk",
    # The eu profile's declaration page.
    "declare_cancellation": ".declarations",
    "receive_declaration": ".declarations",
    "process_declaration": ".declarations",
    "process_pending_declarations": ".declarations",
    "confirm_declaration": ".declarations",
    "dispute_declaration": ".declarations",
    # The statutory withdrawal function (CRD art. 11a).
    "withdraw": ".withdrawals",
    "receive_withdrawal": ".withdrawals",
    "process_withdrawal": ".withdrawals",
    "process_pending_withdrawals": ".withdrawals",
    "confirm_withdrawal": ".withdrawals",
    "mark_refund_done": ".withdrawals",
    # Pauses with a lifecycle (docs/pause.md).
    "resume_pause": ".pauses",
    "extend_pause": ".pauses",
    "sweep_pauses": ".pauses",
    # Customers who went dark (docs/admin.md).
    "scan_went_dark": ".reach",
    "complete_reach_out": ".reach",
    # Return after the end (docs/returns.md).
    "open_comeback": ".returns",
    "quote_return": ".returns",
    "confirm_return": ".returns",
    "complete_return": ".returns",
    # Changes reported by the billing provider.
    "record_external_cancellation": ".external",
    "record_external_reactivation": ".external",
    # Privacy.
    "erase_customer": ".privacy",
    "export_customer_data": ".privacy",
    "purge_cases": ".privacy",
    # What customers, ESPs and staff do with follow-ups.
    "answer_survey": "django_graceful_cancel.followups.actions",
    "opt_out": "django_graceful_cancel.followups.actions",
    "complete_call": "django_graceful_cancel.followups.actions",
    "record_tracking_event": "django_graceful_cancel.followups.actions",
}

__all__ = [
    "abandon",
    "abandon_stale",
    "accept_offer",
    "add_note",
    "answer_survey",
    "answers_by_question",
    "assign_fulfilment_task",
    "assign_owner",
    "cancel_followups",
    "cancel_now",
    "check_save",
    "complete_call",
    "complete_reach_out",
    "complete_return",
    "confirm_cancellation",
    "confirm_declaration",
    "confirm_return",
    "confirm_withdrawal",
    "declare_cancellation",
    "decline_offer",
    "decline_offer_question",
    "dispute_declaration",
    "effective_for",
    "erase_customer",
    "export_customer_data",
    "extend_pause",
    "hear_offer",
    "mark_call_done",
    "mark_fulfilment_done",
    "mark_refund_done",
    "offer_question_open",
    "open_comeback",
    "opt_out",
    "present_offer",
    "process_declaration",
    "process_pending_declarations",
    "process_pending_withdrawals",
    "process_withdrawal",
    "purge_cases",
    "quote_return",
    "reactivate",
    "receive_declaration",
    "receive_withdrawal",
    "record_answers",
    "record_external_cancellation",
    "record_external_reactivation",
    "record_reason",
    "record_tracking_event",
    "resume_pause",
    "retry_provider_sync",
    "run_save_checks",
    "scan_went_dark",
    "schedule_followups",
    "set_root_cause",
    "start_case",
    "submit_reason",
    "sweep_pauses",
    "withdraw",
]


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:
    from ..followups.actions import answer_survey, complete_call, opt_out, record_tracking_event
    from .cases import (
        abandon,
        abandon_stale,
        accept_offer,
        assign_owner,
        confirm_cancellation,
        decline_offer,
        effective_for,
        present_offer,
        reactivate,
        record_reason,
        retry_provider_sync,
        set_root_cause,
        start_case,
    )
    from .declarations import (
        confirm_declaration,
        declare_cancellation,
        dispute_declaration,
        process_declaration,
        process_pending_declarations,
        receive_declaration,
    )
    from .desk import (
        add_note,
        cancel_followups,
        check_save,
        mark_call_done,
        run_save_checks,
        schedule_followups,
    )
    from .external import record_external_cancellation, record_external_reactivation
    from .flow import cancel_now, submit_reason
    from .fulfilment import assign_fulfilment_task, mark_fulfilment_done
    from .pauses import extend_pause, resume_pause, sweep_pauses
    from .privacy import erase_customer, export_customer_data, purge_cases
    from .questions import answers_by_question, record_answers
    from .reach import complete_reach_out, scan_went_dark
    from .returns import complete_return, confirm_return, open_comeback, quote_return
    from .withdrawals import (
        confirm_withdrawal,
        mark_refund_done,
        process_pending_withdrawals,
        process_withdrawal,
        receive_withdrawal,
        withdraw,
    )
