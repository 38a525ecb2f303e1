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
    "present_offer": ".cases",
    "accept_offer": ".cases",
    "decline_offer": ".cases",
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
    "assign_fulfilment_task",
    "assign_owner",
    "cancel_followups",
    "cancel_now",
    "check_save",
    "complete_call",
    "confirm_cancellation",
    "confirm_declaration",
    "declare_cancellation",
    "decline_offer",
    "dispute_declaration",
    "effective_for",
    "erase_customer",
    "export_customer_data",
    "mark_call_done",
    "mark_fulfilment_done",
    "opt_out",
    "present_offer",
    "process_declaration",
    "process_pending_declarations",
    "purge_cases",
    "reactivate",
    "receive_declaration",
    "record_external_cancellation",
    "record_external_reactivation",
    "record_reason",
    "record_tracking_event",
    "retry_provider_sync",
    "run_save_checks",
    "schedule_followups",
    "set_root_cause",
    "start_case",
    "submit_reason",
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
    from .privacy import erase_customer, export_customer_data, purge_cases
