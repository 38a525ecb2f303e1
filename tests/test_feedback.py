"""Claims become true (issue 15): what customers say reaches the people ``FEEDBACK_ROUTES`` names,
per case or in a digest, and the copy says so only where a route exists."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from django_graceful_cancel import feedback, services, tasks
from django_graceful_cancel.checks import check_settings
from django_graceful_cancel.choices import DeliveryStatus
from django_graceful_cancel.models import CancellationCase, FeedbackDelivery
from tests.support import flow_settings, gc_settings

pytestmark = pytest.mark.django_db

CLAIM = "Your answer goes to the people who set our prices."
WORDS = "The price went up twice this year"
PRICE_TO_PRICING = {"price": {"to": ["pricing@example.com"], "mode": "each"}}


def walk_to_the_offer(client: Any, customer: Any, callbacks: Any, words: str = WORDS) -> str:
    """The customer gives "price" and their words on the first step; the offer page's HTML."""
    client.force_login(customer)
    with callbacks(execute=True):
        response = client.post(
            "/account/cancel/",
            {"action": "continue", "reason": "price", "detail": words},
        )
    assert response.status_code == 302, response.content
    return client.get(response["Location"]).content.decode()


def only_case(customer: Any) -> CancellationCase:
    return CancellationCase.objects.get(customer=customer)


def to(address: str) -> list[Any]:
    return [m for m in mail.outbox if address in m.to]


def test_a_price_reason_reaches_the_configured_address_and_the_copy_says_so(
    client, customer, catalogue, django_capture_on_commit_callbacks
):
    with override_settings(GRACEFUL_CANCEL=flow_settings(FEEDBACK_ROUTES=PRICE_TO_PRICING)):
        page = walk_to_the_offer(client, customer, django_capture_on_commit_callbacks)
        case = only_case(customer)
        # The routed mail arrived, with the customer's words and the case.
        (routed,) = to("pricing@example.com")
        assert case.reference in routed.subject
        assert f'"{WORDS}"' in routed.body
        assert "It costs too much for what I get" in routed.body
        assert f"/admin/graceful_cancel/cancellationcase/{case.pk}/change/" in routed.body
        assert routed.tags == ["graceful-cancel-feedback"]
        # ...and the copy tells the customer so: on the page, then in the confirmation.
        assert CLAIM in page
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/account/cancel/{case.reference}/confirm/")
        (confirmation,) = to(customer.email)
        assert CLAIM in confirmation.body
        done = client.get(f"/account/cancel/{case.reference}/done/").content.decode()
        assert CLAIM in done
    delivery = FeedbackDelivery.objects.get(case=case)
    assert (delivery.route, delivery.mode, delivery.status) == ("price", "each", "delivered")
    assert delivery.recipients == ["pricing@example.com"]


def test_without_a_route_the_copy_leaves_the_claim_out(
    client, customer, catalogue, django_capture_on_commit_callbacks
):
    with override_settings(GRACEFUL_CANCEL=flow_settings()):
        page = walk_to_the_offer(client, customer, django_capture_on_commit_callbacks)
        case = only_case(customer)
        assert "Price matters" in page  # the reason's own copy is there...
        assert CLAIM not in page  # ...without the claim nothing makes true
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/account/cancel/{case.reference}/confirm/")
        done = client.get(f"/account/cancel/{case.reference}/done/").content.decode()
    assert [m.to for m in mail.outbox] == [[customer.email]]  # the confirmation only
    assert CLAIM not in mail.outbox[0].body
    assert CLAIM not in done
    assert not FeedbackDelivery.objects.exists()


def test_a_route_by_category_reaches_a_staff_group(
    make_customer, catalogue, django_user_model, django_capture_on_commit_callbacks
):
    product = Group.objects.create(name="Product")
    for username, active in [("pat", True), ("old", False)]:
        member = django_user_model.objects.create_user(
            username, email=f"{username}@example.com", is_active=active
        )
        member.groups.add(product)
    routes = {"product": {"groups": ["Product"], "to": ["cto@example.com"]}}
    with override_settings(GRACEFUL_CANCEL=gc_settings(FEEDBACK_ROUTES=routes)):
        case, _ = services.start_case(make_customer(), language="en")
        with django_capture_on_commit_callbacks(execute=True):
            services.record_reason(case, "technical-problems", detail="It crashes on login")
        with django_capture_on_commit_callbacks(execute=True):
            services.record_reason(case, "competitor")  # not a product reason: nothing
    assert [sorted(m.to) for m in mail.outbox] == [["cto@example.com", "pat@example.com"]]
    assert "It crashes on login" in mail.outbox[0].body


def test_each_case_is_routed_once_per_route(
    make_customer, catalogue, django_capture_on_commit_callbacks
):
    with override_settings(GRACEFUL_CANCEL=gc_settings(FEEDBACK_ROUTES=PRICE_TO_PRICING)):
        case, _ = services.start_case(make_customer(), language="en")
        for detail in ("first", "second"):
            with django_capture_on_commit_callbacks(execute=True):
                services.record_reason(case, "price", detail=detail)
        assert feedback.route_case(case) == []
    assert len(mail.outbox) == 1
    assert FeedbackDelivery.objects.count() == 1


def test_a_failed_send_never_touches_the_customer_and_is_retried(
    client, customer, catalogue, django_capture_on_commit_callbacks
):
    with (
        override_settings(GRACEFUL_CANCEL=flow_settings(FEEDBACK_ROUTES=PRICE_TO_PRICING)),
        mock.patch(
            "django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("SMTP down")
        ),
    ):
        page = walk_to_the_offer(client, customer, django_capture_on_commit_callbacks)
    assert CLAIM in page  # the customer's step went through
    delivery = FeedbackDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert "SMTP down" in delivery.last_error
    with override_settings(GRACEFUL_CANCEL=gc_settings(FEEDBACK_ROUTES=PRICE_TO_PRICING)):
        assert feedback.retry_pending(older_than_seconds=0) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [m.to for m in mail.outbox] == [["pricing@example.com"]]


def test_a_delivery_gives_up_after_its_attempts(make_customer, catalogue):
    with override_settings(GRACEFUL_CANCEL=gc_settings(FEEDBACK_ROUTES=PRICE_TO_PRICING)):
        case, _ = services.start_case(make_customer(), language="en")
        services.record_reason(case, "price")
        with mock.patch(
            "django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("down")
        ):
            feedback.route_case(case)
            for _ in range(feedback.MAX_ATTEMPTS):
                feedback.retry_pending(older_than_seconds=0)
    delivery = FeedbackDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == feedback.MAX_ATTEMPTS


# --- digests ----------------------------------------------------------------------------------

MONDAY = datetime(2031, 3, 10, 9, 0, tzinfo=timezone.get_default_timezone())
WEEKLY_PRICE = {"price": {"to": ["pricing@example.com"], "mode": "digest", "every": "weekly"}}


def a_case_last_week(make_customer: Any, days_ago: int, words: str, **finish: Any) -> Any:
    with time_machine.travel(MONDAY - timedelta(days=days_ago), tick=False):
        case, _ = services.start_case(make_customer(), language="en")
        services.record_reason(case, "price", detail=words)
        if finish.get("save"):
            services.present_offer(case)
            services.accept_offer(case)
        elif finish.get("cancel"):
            services.confirm_cancellation(case)
    return case


def test_a_weekly_digest_has_counts_revenue_and_words_and_goes_once(make_customer, catalogue):
    with override_settings(GRACEFUL_CANCEL=gc_settings(FEEDBACK_ROUTES=WEEKLY_PRICE)):
        a_case_last_week(make_customer, 2, "Twice the price of the others", cancel=True)
        a_case_last_week(make_customer, 3, "", cancel=True)
        a_case_last_week(make_customer, 5, "I would stay for less", save=True)
        a_case_last_week(make_customer, 9, "Two weeks ago: not this digest", cancel=True)
        mail.outbox.clear()  # the customers' confirmations
        sent = feedback.send_digests(now=MONDAY)
        again = feedback.send_digests(now=MONDAY)
    assert len(sent) == 1 and again == []
    (digest,) = mail.outbox
    assert digest.to == ["pricing@example.com"]
    assert digest.subject == '[Test Streaming] Feedback on "price": 3 customers'
    body = digest.body
    assert "3 customers gave this reason." in body
    assert "- It costs too much for what I get: 3" in body
    assert "- Cancelled: 2" in body and "- Saved: 1" in body
    assert "leaving: 25.98 EUR" in body  # two Standard plans at 12.99 a month
    assert "kept by an offer: 12.99 EUR" in body
    assert '"Twice the price of the others"' in body and '"I would stay for less"' in body
    assert "Two weeks ago" not in body
    row = FeedbackDelivery.objects.get(mode="digest")
    assert (row.cases, row.status) == (3, "delivered")
    assert row.period_end - row.period_start == timedelta(days=7)


def test_an_empty_digest_is_not_sent(make_customer, catalogue):
    with override_settings(GRACEFUL_CANCEL=gc_settings(FEEDBACK_ROUTES=WEEKLY_PRICE)):
        (row,) = feedback.send_digests(now=MONDAY)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SKIPPED
    assert mail.outbox == []


def test_the_digest_command_and_task(make_customer, catalogue):
    routes = {
        **WEEKLY_PRICE,
        "quality": {"to": ["quality@example.com"], "mode": "digest", "every": "daily"},
    }
    with override_settings(GRACEFUL_CANCEL=gc_settings(FEEDBACK_ROUTES=routes)):
        a_case_last_week(make_customer, 1, "Too dear", cancel=True)
        mail.outbox.clear()
        out = io.StringIO()
        with time_machine.travel(MONDAY, tick=False):
            call_command("graceful_cancel_feedback_digest", "--dry-run", stdout=out)
            assert "price: 2031-03-03 to 2031-03-10, 1 case(s), 1 recipient(s): would send" in (
                out.getvalue()
            )
            assert mail.outbox == [] and not FeedbackDelivery.objects.exists()
            out = io.StringIO()
            call_command("graceful_cancel_feedback_digest", "--every", "daily", stdout=out)
            assert "quality: 2031-03-09 to 2031-03-10, 0 case(s)" in out.getvalue()
            assert tasks.send_feedback_digests() == 1  # the weekly one, once
            assert tasks.send_feedback_digests() == 0
    assert [m.to for m in mail.outbox] == [["pricing@example.com"]]


def test_the_digest_period_is_the_last_whole_day_or_week():
    start, end = feedback.digest_period("weekly", MONDAY + timedelta(days=2))
    assert (start.date().isoformat(), end.date().isoformat()) == ("2031-03-03", "2031-03-10")
    start, end = feedback.digest_period("daily", MONDAY)
    assert (start.date().isoformat(), end.date().isoformat()) == ("2031-03-09", "2031-03-10")


def test_monthly_revenue_counts_yearly_plans_by_the_month():
    case = CancellationCase(price=Decimal("120"), billing_interval="year")
    assert feedback.MONTHS_PER_INTERVAL["year"] == 12
    assert case.price / feedback.MONTHS_PER_INTERVAL["year"] == 10


@pytest.mark.parametrize(
    "routes",
    [
        {"price": {"mode": "each"}},  # nobody to hear it
        {"price": {"to": ["not-an-address"]}},
        {"price": {"to": ["a@example.com"], "mode": "sometimes"}},
        {"price": {"to": ["a@example.com"], "mode": "digest", "every": "hourly"}},
        {"price": {"to": ["a@example.com"], "slack": "#pricing"}},
        ["price"],
    ],
)
def test_bad_routes_are_a_system_check_error(routes):
    with override_settings(GRACEFUL_CANCEL=gc_settings(FEEDBACK_ROUTES=routes)):
        messages = [m for m in check_settings() if "FEEDBACK_ROUTES" in m.msg]
    assert [m.id for m in messages] == ["graceful_cancel.E003"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("FORMAL_REGISTER", {"es": "yes"}),
        ("GOODBYE", {"gift": "a mug"}),
        ("GOODBYE", {"export_link_days": 0}),
        ("GOODBYE", {"coupon": "X"}),
        ("WHATS_NEW", 3),
    ],
)
def test_bad_message_settings_are_system_check_errors(key, value):
    with override_settings(GRACEFUL_CANCEL=gc_settings(**{key: value})):
        assert [m.id for m in check_settings() if key in m.msg] == ["graceful_cancel.E003"]
