"""Follow-up sequences: which messages a cancelled case gets, when, and on which channel.

A sequence is a list of steps, chosen by the case's reason slug in
``GRACEFUL_CANCEL["FOLLOWUP_SEQUENCES"]``, else its ``"default"``, else ``DEFAULT_SEQUENCE``::

    GRACEFUL_CANCEL = {
        "FOLLOWUP_SEQUENCES": {
            "price": [
                {"stage": "confirmation", "days": 0, "channel": "email"},
                {"stage": "winback", "days": 14, "channel": "preferred", "consent": True},
            ],
        },
    }

Step keys: ``stage`` (required; one row per stage per case), ``days`` (delay after the
cancellation, may be fractional), ``channel`` ("preferred" or a channel name), ``consent`` (send
only to customers who agreed to follow-ups) and ``template`` (the message stage to render;
defaults to ``stage``). The delay is multiplied by ``FOLLOWUP_SECONDS_PER_DAY`` / 86400, which is
how the demo plays a 30-day sequence in seconds.

Sequences know the reason: a reason where trying to save the customer is wrong (its
``offer_allowed`` is off, as for a closing business) gets no win-back, whatever the setting
says (``WINBACK_STAGES``), and a case in the win-back holdout gets none either
(``WINBACK_HOLDOUT_PERCENT``, docs/returns.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..choices import Channel
from ..conf import app_settings
from ..services.holdout import winback_arm
from ..services.inputs import is_valid_phone

if TYPE_CHECKING:
    from ..models import CancellationCase

#: The product's defaults: confirm at once, thank after 3 days, survey after 7, win back after 30.
DEFAULT_SEQUENCE: list[dict[str, Any]] = [
    # The receipt of the cancellation: everyone gets it, by email (the law asks for it).
    {"stage": "confirmation", "days": 0, "channel": "email"},
    # Everything else is contact the customer may refuse: only for those who ticked the box.
    {"stage": "thank_you", "days": 3, "channel": "preferred", "consent": True},
    {"stage": "survey", "days": 7, "channel": "preferred", "consent": True},
    {"stage": "winback", "days": 30, "channel": "preferred", "consent": True},
]

#: Stages (and templates) that try to win the customer back: never planned for a reason whose
#: ``offer_allowed`` is off.
WINBACK_STAGES = frozenset({"winback"})

PREFERRED = "preferred"
_STEP_KEYS = {"stage", "days", "channel", "consent", "template"}


@dataclass(frozen=True)
class Step:
    stage: str
    days: float
    channel: str
    consent: bool = False
    template: str = ""

    @property
    def delay(self) -> timedelta:
        return timedelta(seconds=float(self.days) * float(app_settings.FOLLOWUP_SECONDS_PER_DAY))


def validate_sequences(value: dict[str, Any]) -> list[str]:
    """Problems with a ``FOLLOWUP_SEQUENCES`` value, as readable strings (empty when fine)."""
    problems: list[str] = []
    for key, steps in value.items():
        if not isinstance(steps, (list, tuple)):
            problems.append(f"{key!r}: not a list of steps")
            continue
        stages: set[str] = set()
        for step in steps:
            if not isinstance(step, dict) or "stage" not in step:
                problems.append(f"{key!r}: every step is a dict with a 'stage'")
                continue
            unknown = set(step) - _STEP_KEYS
            if unknown:
                problems.append(f"{key!r}: unknown step keys {sorted(unknown)}")
            if step["stage"] in stages:
                problems.append(f"{key!r}: stage {step['stage']!r} appears twice")
            stages.add(step["stage"])
            days = step.get("days", 0)
            if not isinstance(days, (int, float)) or isinstance(days, bool) or days < 0:
                problems.append(f"{key!r}: 'days' must be a number, 0 or more")
            channel = step.get("channel", PREFERRED)
            if channel != PREFERRED and channel not in Channel.values:
                problems.append(f"{key!r}: unknown channel {channel!r}")
    return problems


def _as_steps(raw: list[dict[str, Any]]) -> list[Step]:
    return [
        Step(
            stage=str(step["stage"]),
            days=step.get("days", 0),
            channel=step.get("channel", PREFERRED),
            consent=bool(step.get("consent", False)),
            template=str(step.get("template") or step["stage"]),
        )
        for step in raw
    ]


def sequence_for(case: CancellationCase) -> list[Step]:
    """The steps for this case's reason (or the default sequence)."""
    configured = app_settings.FOLLOWUP_SEQUENCES or {}
    reason = case.reason  # no query when the case has no reason
    if reason is not None and reason.slug in configured:
        return _as_steps(configured[reason.slug])
    return _as_steps(configured.get("default", DEFAULT_SEQUENCE))


def resolve_channel(case: CancellationCase, step: Step) -> str:
    """The channel a step goes out on.

    SMS, WhatsApp and calls need the customer's consent and a valid phone number, else email: a
    customer who did not tick the box declined to be contacted, so the channel they picked next to
    it (and any number they typed) is not used; a number that cannot be reached (one stored
    before numbers were checked, say) would send the message nowhere.
    """
    channel = case.preferred_channel if step.channel == PREFERRED else step.channel
    if channel in (Channel.SMS, Channel.WHATSAPP, Channel.PHONE) and not (
        case.contact_consent and is_valid_phone(case.contact_phone)
    ):
        return Channel.EMAIL
    return channel or Channel.EMAIL


def saving_allowed(case: CancellationCase) -> bool:
    """Whether trying to win this customer back is right: not for a reason whose
    ``offer_allowed`` is off (a closing business)."""
    reason = case.reason
    return reason is None or reason.offer_allowed


def plan(case: CancellationCase, *, start: datetime) -> list[tuple[Step, str, datetime]]:
    """(step, channel, due time) for every step this case should get.

    The first time a case is eligible for a win-back step, its win-back arm is drawn and stored
    (``services.holdout``): a case in the holdout gets no win-back message (docs/returns.md).
    """
    planned = []
    winback_allowed = saving_allowed(case)
    for step in sequence_for(case):
        if step.consent and not case.contact_consent:
            continue
        if {step.stage, step.template} & WINBACK_STAGES and not (
            winback_allowed and not winback_arm(case).is_holdout
        ):
            continue
        planned.append((step, resolve_channel(case, step), start + step.delay))
    return planned
