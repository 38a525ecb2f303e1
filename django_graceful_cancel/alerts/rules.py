"""Which changes make a staff alert, and where it goes: ``GRACEFUL_CANCEL["ALERT_RULES"]``.

``ALERT_RULES`` maps a rule's name to the channels its alerts go to, or to a dict with
``"channels"`` and the rule's options::

    "ALERT_RULES": {
        "high_value_cancellation": {"channels": ["slack", "owner_email"], "min_monthly_value": 200},
        "call_requested": ["slack"],
        "declaration_disputed": ["slack", "owner_email"],
        "provider_sync_attention": ["slack"],
    }

A rule left out (the default: every rule) sends nothing. The rules only decide: they write
nothing, and the outbox (``webhooks/outbox.py``) turns each alert into one delivery row per
channel in the transaction of the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ..choices import Channel, EventKind, OfferKind
from ..conf import app_settings
from ..models import CancellationCase, CancellationDeclaration, CaseEvent, RetentionOffer
from ..priority import monthly_value

HIGH_VALUE_CANCELLATION = "high_value_cancellation"
CALL_REQUESTED = "call_requested"
DECLARATION_DISPUTED = "declaration_disputed"
PROVIDER_SYNC_ATTENTION = "provider_sync_attention"

#: Every rule, with its options and their defaults.
RULES: dict[str, dict[str, Any]] = {
    # A confirmed cancellation whose monthly price (in the case's currency; a yearly plan counts
    # a twelfth) is at least ``min_monthly_value``.
    HIGH_VALUE_CANCELLATION: {"min_monthly_value": 100},
    # A customer accepted a consultation-call offer, or a phone follow-up made a call task.
    CALL_REQUESTED: {},
    # The account holder said a no-login declaration was not theirs.
    DECLARATION_DISPUTED: {},
    # The billing provider failed PROVIDER_SYNC_MAX_ATTEMPTS times: a person must look.
    PROVIDER_SYNC_ATTENTION: {},
}

#: The timeline event kinds some rule reads (the others cost nothing).
KINDS: frozenset[str] = frozenset(
    {
        EventKind.CANCELLED,
        EventKind.OFFER_ACCEPTED,
        EventKind.MESSAGE_SENT,
        EventKind.PROVIDER_SYNC_FAILED,
    }
)


@dataclass(frozen=True)
class Alert:
    """One alert a change makes: the rule, where it goes, and what the message says."""

    rule: str
    channels: tuple[str, ...]
    #: JSON-ready facts the message is written from (``messages.py``), read again at send time.
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleConfig:
    channels: tuple[str, ...]
    options: dict[str, Any]


def rule_config(value: Any) -> RuleConfig | None:
    """One ``ALERT_RULES`` value read leniently (the system check reports a bad one)."""
    if isinstance(value, (list, tuple)):
        return RuleConfig(tuple(str(c) for c in value), {})
    if isinstance(value, dict):
        channels = value.get("channels") or ()
        if not isinstance(channels, (list, tuple)):
            return None
        options = {k: v for k, v in value.items() if k != "channels"}
        return RuleConfig(tuple(str(c) for c in channels), options)
    return None


def configured_rules() -> dict[str, RuleConfig]:
    """The rules that send something: name -> channels and options (defaults filled in)."""
    raw = app_settings.ALERT_RULES
    if not isinstance(raw, dict):
        return {}
    found = {}
    for name, value in raw.items():
        config = rule_config(value)
        if name in RULES and config is not None and config.channels:
            found[name] = RuleConfig(config.channels, {**RULES[name], **config.options})
    return found


def configured_channels() -> list[str]:
    """Every channel some rule sends to, each once."""
    return list(dict.fromkeys(c for rule in configured_rules().values() for c in rule.channels))


def case_facts(case: CancellationCase) -> dict[str, Any]:
    """What every alert about a case says."""
    return {
        "case": case.pk,
        "reference": case.reference,
        "status": case.status,
        "plan": case.plan,
        "price": str(case.price) if case.price is not None else None,
        "currency": case.currency,
        "billing_interval": case.billing_interval,
        "monthly_value": str(monthly_value(case).quantize(Decimal("0.01"))),
        "reason": case.reason.slug if case.reason_id and case.reason else None,
    }


def _threshold(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _rule_matches(
    rule: str, options: dict[str, Any], case: CancellationCase, event: CaseEvent
) -> dict[str, Any] | None:
    """``None`` when ``rule`` does not fire on ``event``, else the facts it adds."""
    data = event.data or {}
    if rule == HIGH_VALUE_CANCELLATION and event.kind == EventKind.CANCELLED:
        threshold = _threshold(options.get("min_monthly_value"))
        if threshold is not None and monthly_value(case) >= threshold:
            return {"min_monthly_value": str(threshold)}
    elif rule == CALL_REQUESTED:
        if event.kind == EventKind.MESSAGE_SENT and data.get("channel") == Channel.PHONE:
            return {"how": "call_task", "stage": data.get("stage", "")}
        if event.kind == EventKind.OFFER_ACCEPTED and data.get("offer"):
            kind = (
                RetentionOffer.objects.filter(slug=data["offer"])
                .values_list("kind", flat=True)
                .first()
            )
            if kind == OfferKind.CONSULTATION:
                return {"how": "consultation", "offer": data["offer"]}
    elif (
        rule == PROVIDER_SYNC_ATTENTION
        and event.kind == EventKind.PROVIDER_SYNC_FAILED
        and data.get("needs_attention")
        # Once, when the attempts reach the limit: the daily retries after it stay quiet.
        and data.get("attempts") == app_settings.PROVIDER_SYNC_MAX_ATTEMPTS
    ):
        return {"attempts": data.get("attempts"), "error": str(data.get("error", ""))[:300]}
    return None


def alerts_for_event(case: CancellationCase, event: CaseEvent) -> list[Alert]:
    """The alerts the timeline ``event`` of ``case`` makes (most events make none)."""
    if event.kind not in KINDS:
        return []
    alerts = []
    for name, config in configured_rules().items():
        extra = _rule_matches(name, config.options, case, event)
        if extra is not None:
            alerts.append(Alert(name, config.channels, {**case_facts(case), **extra}))
    return alerts


def alerts_for_dispute(declaration: CancellationDeclaration) -> list[Alert]:
    """The alert a disputed declaration makes, if the rule is on."""
    config = configured_rules().get(DECLARATION_DISPUTED)
    if config is None:
        return []
    case = declaration.case
    facts: dict[str, Any] = case_facts(case) if case is not None else {"case": None}
    facts["declaration"] = declaration.reference
    return [Alert(DECLARATION_DISPUTED, config.channels, facts)]
