"""The webhook event types, the timeline events they come from, and their payloads.

Every event type but the declarations' comes from one kind of timeline event (``EventKind``),
sometimes only some of them (a follow-up "delivered" is a "message status" event whose status is
"delivered"); one timeline event can make several (accepting an offer saves the case:
``offer.accepted`` and ``case.saved``). The declaration events come from the declaration signals
(``receivers``), because a declaration may have no case.

A payload follows the Standard Webhooks recommendation, ``{"type", "timestamp", "data"}``, and
carries no more personal data than ``WEBHOOK_PERSONAL_DATA`` allows (docs/webhooks.md):

* ``"none"`` (the default): the case reference, status, reason slug, plan, price and dates;
* ``"contact"``: and who the customer is (id, email, name, phone), and the subscription;
* ``"all"``: and what people wrote (the reason in the customer's words, the survey comment, the
  declaration's name, contract and reason, the staff member who acted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..choices import EventKind, FollowUpStatus
from ..conf import app_settings
from ..models import CancellationCase, CancellationDeclaration, CaseEvent

#: The levels of ``WEBHOOK_PERSONAL_DATA``, least first.
PERSONAL_DATA_LEVELS: tuple[str, ...] = ("none", "contact", "all")

#: Keys that hold personal data wherever they appear in a payload: what an erasure removes.
PERSONAL_KEYS: frozenset[str] = frozenset(
    {
        "customer",
        "subscription",
        "detail",
        "comment",
        "name",
        "email",
        "contract",
        "extraordinary_reason",
    }
)


def _always(event: CaseEvent) -> bool:
    return True


def _message_status(status: str) -> Callable[[CaseEvent], bool]:
    def matches(event: CaseEvent) -> bool:
        return (event.data or {}).get("status") == status

    return matches


@dataclass(frozen=True)
class EventType:
    """One event type a webhook endpoint can subscribe to."""

    name: str
    description: str | Promise
    #: The timeline event it comes from; "" for the declaration events (sent by their signals).
    kind: str = ""
    #: Which of those timeline events make it (all by default).
    matches: Callable[[CaseEvent], bool] = _always
    #: Keys of the timeline event's data the payload repeats under ``data.event``.
    details: tuple[str, ...] = ()


#: Every event type, in the order the admin lists them.
EVENT_TYPES: tuple[EventType, ...] = (
    EventType("case.started", _("A customer started a cancellation"), EventKind.STARTED),
    EventType(
        "case.reason_recorded",
        _("A reason was recorded"),
        EventKind.REASON_RECORDED,
        details=("reason", "channel", "consent"),
    ),
    EventType(
        "offer.presented",
        _("An offer was presented"),
        EventKind.OFFER_PRESENTED,
        details=("offer", "kind"),
    ),
    EventType(
        "offer.accepted", _("An offer was accepted"), EventKind.OFFER_ACCEPTED, details=("offer",)
    ),
    EventType(
        "offer.declined", _("An offer was declined"), EventKind.OFFER_DECLINED, details=("offer",)
    ),
    EventType(
        "case.cancelled",
        _("A cancellation was confirmed"),
        EventKind.CANCELLED,
        details=("effective_mode", "effective_at", "external", "source"),
    ),
    EventType(
        "case.saved",
        _("A customer stayed (an offer was accepted)"),
        EventKind.OFFER_ACCEPTED,
        details=("offer",),
    ),
    EventType(
        "case.reactivated",
        _("A cancelled subscription was reactivated"),
        EventKind.REACTIVATED,
        details=("external", "source"),
    ),
    EventType(
        "case.abandoned", _("A customer left the flow without deciding"), EventKind.ABANDONED
    ),
    EventType(
        "case.withdrawn",
        _("A customer withdrew from the contract (statutory withdrawal)"),
        EventKind.WITHDRAWN,
        details=("withdrawal", "received_at", "profile"),
    ),
    EventType(
        "case.returned",
        _("A former customer came back"),
        EventKind.RETURNED,
        details=("method", "channel", "offer", "source"),
    ),
    # Pauses (services/pauses.py, docs/pause.md).
    EventType(
        "pause.started",
        _("A subscription was paused"),
        EventKind.PAUSE_STARTED,
        details=("ends_at", "via"),
    ),
    EventType(
        "pause.extended",
        _("A pause was extended"),
        EventKind.PAUSE_EXTENDED,
        details=("days", "ends_at"),
    ),
    EventType(
        "pause.resumed",
        _("A paused subscription runs again"),
        EventKind.PAUSE_RESUMED,
        details=("early",),
    ),
    EventType(
        "pause.cancelled",
        _("A subscription was cancelled while paused"),
        EventKind.PAUSE_CANCELLED,
    ),
    EventType("declaration.received", _("A cancellation declaration was received")),
    EventType("declaration.disputed", _("The account holder disputed a declaration")),
    EventType(
        "followup.delivered",
        _("A follow-up was delivered"),
        EventKind.MESSAGE_STATUS,
        matches=_message_status(FollowUpStatus.DELIVERED),
        details=("stage", "channel", "status"),
    ),
    EventType(
        "followup.bounced",
        _("A follow-up bounced"),
        EventKind.MESSAGE_STATUS,
        matches=_message_status(FollowUpStatus.BOUNCED),
        details=("stage", "channel", "status"),
    ),
    EventType(
        "survey.answered",
        _("A customer answered the survey"),
        EventKind.SURVEY_ANSWERED,
        details=("score",),
    ),
)

BY_NAME: dict[str, EventType] = {event_type.name: event_type for event_type in EVENT_TYPES}

#: Timeline event kinds that make at least one webhook event (the others cost no query).
KINDS: frozenset[str] = frozenset(t.kind for t in EVENT_TYPES if t.kind)


def event_type_choices() -> list[tuple[str, str]]:
    """``(name, "name: description")`` for the admin's checkboxes."""
    return [(t.name, f"{t.name}: {t.description}") for t in EVENT_TYPES]


def types_for(event: CaseEvent) -> list[EventType]:
    """The webhook event types a timeline event makes (often none)."""
    if event.kind not in KINDS:
        return []
    return [t for t in EVENT_TYPES if t.kind == event.kind and t.matches(event)]


def personal_data_level() -> str:
    """``WEBHOOK_PERSONAL_DATA``; an unknown value counts as "none" (the check reports it)."""
    level = app_settings.WEBHOOK_PERSONAL_DATA
    return level if level in PERSONAL_DATA_LEVELS else "none"


def allows(level: str, needed: str) -> bool:
    return PERSONAL_DATA_LEVELS.index(level) >= PERSONAL_DATA_LEVELS.index(needed)


# --- payloads ------------------------------------------------------------------------------------


def iso(value: datetime | date | None) -> str | None:
    """ISO 8601; datetimes in UTC with a ``Z``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        text = value.isoformat()
        return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
    return value.isoformat()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return iso(value)
    if isinstance(value, str) and value.endswith("+00:00"):
        # A date the timeline stored as text: written like the others ("...Z").
        parsed = parse_datetime(value)
        return iso(parsed) if parsed is not None else value
    return value


def case_data(case: CancellationCase, level: str) -> dict[str, Any]:
    """What a payload says about a case."""
    data: dict[str, Any] = {
        "reference": case.reference,
        "status": case.status,
        "reason": case.reason.slug if case.reason_id and case.reason else None,
        "plan": case.plan,
        "plan_code": case.plan_code,
        "price": _plain(case.price),
        "currency": case.currency or None,
        "billing_interval": case.billing_interval or None,
        "language": case.language or None,
        "compliance_profile": case.compliance_profile,
        "effective_mode": case.effective_mode,
        "effective_at": iso(case.effective_at),
        "period_end": iso(case.period_end),
        "started_at": iso(case.created_at),
        "cancelled_at": iso(case.cancelled_at),
        "saved_at": iso(case.saved_at),
        "reactivated_at": iso(case.reactivated_at),
        "closed_at": iso(case.closed_at),
    }
    if allows(level, "contact"):
        data["subscription"] = case.subscription_ref
    if allows(level, "all"):
        data["detail"] = case.reason_detail  # the reason in the customer's words
        data["comment"] = case.survey_comment
    return data


def customer_data(case: CancellationCase) -> dict[str, Any] | None:
    """Who the customer is (``"contact"`` and ``"all"`` only)."""
    customer = case.customer if case.customer_id else None
    if customer is None:
        return None
    full_name = getattr(customer, "get_full_name", None)
    name = full_name() if callable(full_name) else ""
    email_field = customer.get_email_field_name()
    return {
        "id": str(customer.pk),
        "email": getattr(customer, email_field, "") or None,
        "name": name or customer.get_username(),
        "phone": case.contact_phone or None,
    }


def actor_of(label: str, level: str) -> str:
    """Who acted, as a payload says it: a staff member's name only with ``"all"``."""
    if label.startswith("staff:") and not allows(level, "all"):
        return "staff"
    return label


def event_payload(
    event_type: EventType, case: CancellationCase, event: CaseEvent
) -> dict[str, Any]:
    """The payload of ``event_type`` made by the timeline ``event`` of ``case``."""
    level = personal_data_level()
    source = event.data or {}
    details = {key: _plain(source[key]) for key in event_type.details if key in source}
    data: dict[str, Any] = {
        "case": case_data(case, level),
        "event": details,
        "actor": actor_of(event.actor_label, level),
    }
    if allows(level, "contact"):
        data["customer"] = customer_data(case)
    return {"type": event_type.name, "timestamp": iso(event.created_at), "data": data}


def declaration_payload(
    event_type: EventType, declaration: CancellationDeclaration, *, at: datetime
) -> dict[str, Any]:
    """The payload of a declaration event (``declaration.received``, ``declaration.disputed``)."""
    level = personal_data_level()
    details: dict[str, Any] = {
        "reference": declaration.reference,
        "status": declaration.status,
        "termination": declaration.termination,
        "requested_end_date": iso(declaration.requested_end_date),
        "received_at": iso(declaration.received_at),
        "disputed_at": iso(declaration.disputed_at),
        "matched": declaration.customer_id is not None,
    }
    if allows(level, "contact"):
        details.update(name=declaration.name, email=declaration.email)
    if allows(level, "all"):
        details.update(
            contract=declaration.contract,
            extraordinary_reason=declaration.extraordinary_reason,
        )
    case = declaration.case
    data: dict[str, Any] = {
        "case": case_data(case, level) if case is not None else None,
        "declaration": details,
    }
    if allows(level, "contact"):
        data["customer"] = customer_data(case) if case is not None else None
    return {"type": event_type.name, "timestamp": iso(at), "data": data}


def redact(payload: Any) -> Any:
    """``payload`` without its personal data (``PERSONAL_KEYS``), for an erased customer."""
    if isinstance(payload, dict):
        return {k: redact(v) for k, v in payload.items() if k not in PERSONAL_KEYS}
    if isinstance(payload, list):
        return [redact(v) for v in payload]
    if isinstance(payload, str) and payload.startswith("staff:"):
        return "staff"
    return payload
