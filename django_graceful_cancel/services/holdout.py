"""The win-back holdout: which cases get no win-back message, so the win-back lift is real.

Like the offer experiments (``services/experiments.py``), the arm is a stable hash of the case's
reference: the same case always falls in the same arm, and nobody chooses who is held out. It is
drawn once, when the case's follow-ups are planned (``followups.sequences.plan``), and stored as
the case's ``WinbackArm`` with the share in force then, so changing
``WINBACK_HOLDOUT_PERCENT`` later never moves a case from one arm to the other. A case outside the
holdout also gets the one win-back offer the policy chooses for it then (``choose_winback_offer``;
none when the policy allows none).
"""

from __future__ import annotations

import hashlib

from ..compliance import rules_for
from ..conf import app_settings
from ..models import CancellationCase, WinbackArm


def bucket(reference: str) -> float:
    """A stable number in [0, 1) for this case (salted apart from the offer experiments)."""
    digest = hashlib.sha256(f"winback:{reference}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def draw_arm(case: CancellationCase) -> WinbackArm:
    """The case's arm: the stored one, else a new unsaved one drawn now. Reads only."""
    existing = WinbackArm.objects.filter(case_id=case.pk).select_related("offer").first()
    if existing is not None:
        return existing
    percent = int(app_settings.WINBACK_HOLDOUT_PERCENT or 0)
    held_out = bucket(case.reference) < percent / 100
    # The policy by its dotted path (OFFER_POLICY), resolved now: the policies module builds on
    # the follow-up sequences, which draw this arm.
    choose = getattr(app_settings.OFFER_POLICY(), "choose_winback_offer", None)
    # The case's law may forbid an offer nobody asked for after the cancellation (us-mn,
    # ComplianceRules.winback_offer): a replaceable policy cannot override it.
    allowed = rules_for(case.compliance_profile).winback_offer
    offer = choose(case) if callable(choose) and not held_out and allowed else None
    return WinbackArm(case=case, is_holdout=held_out, holdout_percent=percent, offer=offer)


def winback_arm(case: CancellationCase) -> WinbackArm:
    """The case's arm, stored on first use; call inside the transaction that plans its
    follow-ups, which holds the case's lock (confirming a cancellation, staff scheduling the
    follow-ups), so no other request stores one meanwhile. Idempotent: a second call returns the
    stored arm. Two queries (one read, one insert) the first time, one after."""
    arm = draw_arm(case)
    if arm.pk is None:
        arm.save(force_insert=True)
    return arm
