"""The service layer: the only code that changes a case. See services/cases.py."""

from .cases import (
    abandon,
    abandon_stale,
    accept_offer,
    assign_owner,
    confirm_cancellation,
    decline_offer,
    pending_sync_cases,
    present_offer,
    reactivate,
    record_reason,
    retry_provider_sync,
    set_root_cause,
    start_case,
)

__all__ = [
    "abandon",
    "abandon_stale",
    "accept_offer",
    "assign_owner",
    "confirm_cancellation",
    "decline_offer",
    "pending_sync_cases",
    "present_offer",
    "reactivate",
    "record_reason",
    "retry_provider_sync",
    "set_root_cause",
    "start_case",
]
