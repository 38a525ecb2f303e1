"""The win-back figures (issue 17, part 2): returns, win-back rate by message, reason and offer,
and the lift over the holdout with its interval, checked against numbers computed here from the
rows themselves, with the interval formulas written out again (nothing from analytics.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import analytics, services, tasks
from django_graceful_cancel.choices import FollowUpStatus, ReturnStatus
from django_graceful_cancel.followups import links
from django_graceful_cancel.models import (
    CancellationCase,
    CaseReturn,
    FollowUp,
    RetentionOffer,
    WinbackArm,
)
from django_graceful_cancel.services import winback
from tests.support import gc_settings
from tests.testapp.models import Subscription

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_dashboard_cache")]

SETTINGS = {
    "RESUBSCRIBE_HOOK": "tests.test_winback.subscribe_again",
    "RESUBSCRIBE_OFFER_KINDS": ["discount"],
    "WINBACK_OFFERS": ["winback-half"],
    "WINBACK_HOLDOUT_PERCENT": 40,
    "FOLLOWUP_QUIET_HOURS": None,
    "FOLLOWUP_MIN_INTERVAL_HOURS": 0,
    "DASHBOARD_CACHE_SECONDS": 0,
}
Z = 1.959964


def subscribe_again(*, case: Any, quote: Any, offer: Any, idempotency_key: str) -> str:
    sub = Subscription.objects.filter(user=case.customer).first()
    return f"testapp.subscription:{sub.pk if sub else 0}"


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    (l1, u1), (l2, u2) = wilson(k1, n1), wilson(k2, n2)
    p1, p2 = k1 / n1, k2 / n2
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt(
        (u1 - p1) ** 2 + (p2 - l2) ** 2
    )


def come_back(client: Any, path: str) -> None:
    page = client.get(path)
    seen = re.search(r'name="seen" value="(\w+)"', page.content.decode()).group(1)
    assert client.post(path, {"seen": seen}).status_code == 200


@pytest.fixture
def history(make_customer: Any, catalogue: Any) -> list[CancellationCase]:
    """24 cancelled cases (price and quality), the second half with a win-back offer; win-back
    messages sent to the win-back group; some customers come back from the message, some from the
    receipt page (holdout included)."""
    cases = []
    client = Client()  # the customers, who follow their links without signing in
    with override_settings(GRACEFUL_CANCEL=gc_settings(**SETTINGS)):
        for i in range(24):
            if i == 12:  # from now on the win-back message carries an offer
                RetentionOffer.objects.create(
                    slug="winback-half",
                    kind="discount",
                    title="Half price",
                    parameters={"percent_off": 50},
                )
            case, _ = services.start_case(make_customer(), language="en")
            services.record_reason(case, "price" if i % 2 else "quality", contact_consent=True)
            if services.present_offer(case) is not None:
                services.decline_offer(case)
            cases.append(services.confirm_cancellation(case))
        later = max(c.effective_at for c in cases) + timedelta(days=1)
        with time_machine.travel(later, tick=False):
            sent = 0
            for case in cases:
                row = FollowUp.objects.filter(case=case, stage="winback").first()
                if row is None:
                    continue
                FollowUp.objects.filter(pk=row.pk).update(due_at=timezone.now())
                assert tasks.send_followup(row.pk) == FollowUpStatus.SENT
                sent += 1
                # Every third messaged customer follows the link in the message.
                if sent % 3 == 1:
                    body = mail.outbox[-1].body
                    path = re.search(r"http://testserver(\S*/l/comeback/\S+/)", body).group(1)
                    come_back(client, path)
            # Two customers come back from the receipt page instead: one of each group.
            for holdout in (True, False):
                arm = (
                    WinbackArm.objects.filter(is_holdout=holdout, case__case_return__isnull=True)
                    .order_by("pk")
                    .first()
                )
                assert arm is not None
                path = links.comeback_link(arm.case, source="receipt")
                come_back(client, path.removeprefix("http://testserver"))
    return cases


def test_the_figures_match_a_count_by_hand(history):
    data = winback.figures()
    arms = list(WinbackArm.objects.select_related("case__reason", "offer"))
    returned = {r.case_id: r for r in CaseReturn.objects.filter(status=ReturnStatus.RETURNED)}
    # Returns, by where the link was.
    assert data["returned"] == len(returned)
    assert data["by_source"] == dict(Counter(r.source for r in returned.values()))
    assert data["by_source"]["receipt"] == 2
    # The lift, from the arms.
    group = [a for a in arms if not a.is_holdout]
    held = [a for a in arms if a.is_holdout]
    k1 = sum(a.case_id in returned for a in group)
    k2 = sum(a.case_id in returned for a in held)
    n1, n2 = len(group), len(held)
    assert n1 + n2 == 24 and n1 and n2
    lift = data["lift"]
    assert (lift["winback"]["cases"], lift["winback"]["returned"]) == (n1, k1)
    assert (lift["holdout"]["cases"], lift["holdout"]["returned"]) == (n2, k2)
    assert lift["lift"] == pytest.approx(k1 / n1 - k2 / n2, abs=1e-4)
    low, high = newcombe(k1, n1, k2, n2)
    assert lift["lift_low"] == pytest.approx(low, abs=1e-4)
    assert lift["lift_high"] == pytest.approx(high, abs=1e-4)
    # By message: every win-back message sent, and the returns from its own link.
    sent = list(FollowUp.objects.filter(stage="winback", status=FollowUpStatus.SENT))
    assert len(sent) == n1  # the holdout got none
    from_message = {r.followup_id for r in returned.values() if r.followup_id}
    [row] = data["by_message"]
    assert (row["stage"], row["channel"], row["sent"]) == ("winback", "email", len(sent))
    assert row["returned"] == len(from_message) == sum(f.pk in from_message for f in sent)
    assert (row["low"], row["high"]) == pytest.approx(
        wilson(row["returned"], row["sent"]), abs=1e-4
    )
    # By reason and by offer, counted the same way.
    by_reason: Counter[str] = Counter()
    back_reason: Counter[str] = Counter()
    by_offer: Counter[str | None] = Counter()
    back_offer: Counter[str | None] = Counter()
    arm_of = {a.case_id: a for a in arms}
    for followup in sent:
        case = followup.case
        offer = arm_of[case.pk].offer
        slug = offer.slug if offer else None
        by_reason[case.reason.slug] += 1
        by_offer[slug] += 1
        if followup.pk in from_message:
            back_reason[case.reason.slug] += 1
            back_offer[slug] += 1
    assert {r["reason"]: (r["sent"], r["returned"]) for r in data["by_reason"]} == {
        slug: (n, back_reason[slug]) for slug, n in by_reason.items()
    }
    assert {r["offer"]: (r["sent"], r["returned"]) for r in data["by_offer"]} == {
        slug: (n, back_offer[slug]) for slug, n in by_offer.items()
    }
    assert set(by_offer) == {None, "winback-half"}
    # Returns from a message carried the offer of their case's arm.
    for case_return in returned.values():
        if case_return.followup_id:
            assert case_return.offer == arm_of[case_return.case_id].offer


def test_the_dashboard_shows_returns_and_lift(superuser_client, history):
    with override_settings(GRACEFUL_CANCEL=gc_settings(**SETTINGS)):
        response = superuser_client.get(reverse("admin:graceful_cancel_dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    data = winback.figures(*analytics.default_range())
    section = html[html.index('id="gc-winback"') :]
    lift = data["lift"]
    shown = re.search(r'data-figure="winback_lift">([^<]+)<', section).group(1)

    # floatformat:3 rounds half up, as Decimal does here.
    def three(value: float) -> str:
        return str(Decimal(str(value)).quantize(Decimal("0.001"), ROUND_HALF_UP))

    assert (
        shown == f"{three(lift['lift'])} ({three(lift['lift_low'])} … {three(lift['lift_high'])})"
    )
    messages = section[section.index('id="gc-winback-messages"') :]
    row = data["by_message"][0]
    assert f'<td class="num">{row["sent"]}</td><td class="num">{row["returned"]}</td>' in messages
    assert "Half price" in section and "No offer" in section


def test_no_arms_no_lift(db):
    data = winback.figures()
    assert data["returned"] == 0 and data["lift"]["lift"] is None
    assert data["by_message"] == data["by_reason"] == data["by_offer"] == []
