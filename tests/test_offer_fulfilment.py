"""Offers are promises: shown only when the backend or a route of the site applies them
(issue 13, "Backends declare what they can do; the policy offers only that").

Capabilities of the shipped backends; the two fulfilment routes, a hook called in the accept
transaction and a desk task for staff with a due date the customer is told; staff closing it;
the dashboard's figures; and the checks that say which active offers nobody applies.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.checks import Tags, run_checks
from django.db import transaction
from django.dispatch import Signal
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import analytics, services, signals
from django_graceful_cancel.backends.model import ModelSubscriptionBackend
from django_graceful_cancel.backends.stripe import StripeSubscriptionBackend
from django_graceful_cancel.choices import CaseStatus, EventKind, FulfilmentStatus, OfferOutcome
from django_graceful_cancel.exceptions import BackendError, InvalidTransition, OfferNotApplicable
from django_graceful_cancel.models import CancellationCase, FulfilmentTask, RetentionOffer
from django_graceful_cancel.services import fulfilment
from tests.support import flow_settings, gc_settings

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
THIS = "tests.test_offer_fulfilment"


@contextmanager
def capture(signal: Signal) -> Any:
    """The calls ``signal`` makes while the block runs (delivered as the block's commit would)."""
    calls: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        calls.append(kwargs)

    signal.connect(receiver)
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            yield calls
    finally:
        signal.disconnect(receiver)


def open_case(customer: Any, reason: str = "price") -> CancellationCase:
    case, _ = services.start_case(customer)
    services.record_reason(case, reason)
    services.present_offer(case)
    return CancellationCase.objects.get(pk=case.pk)


def catalogue_warnings() -> list[Any]:
    return [
        m for m in run_checks() if str(m.id) in ("graceful_cancel.W010", "graceful_cancel.W011")
    ]


# --- what the shipped backends apply ----------------------------------------------------------


def test_the_model_backend_applies_what_a_plain_model_can(catalogue):
    capabilities = ModelSubscriptionBackend().capabilities()
    assert capabilities.offer_kinds == {"pause", "extension", "downgrade"}
    assert capabilities.cancel_at_period_end and capabilities.stop_renewal


STRIPE = {
    "SUBSCRIPTION_BACKEND": "django_graceful_cancel.backends.stripe.StripeSubscriptionBackend",
    "STRIPE_API_KEY": "sk_test_x",
    "STRIPE_CUSTOMER_LOOKUP": "email",
}


def test_the_stripe_backend_applies_what_is_configured_there(catalogue):
    offers = {o.slug: o for o in RetentionOffer.objects.all()}
    with override_settings(GRACEFUL_CANCEL=gc_settings(**STRIPE)):
        backend = StripeSubscriptionBackend()
        assert backend.capabilities().offer_kinds == {
            "discount",
            "pause",
            "downgrade",
            "extension",
            "free_feature",
        }
        assert backend.can_apply(offers["discount-30-3m"])
        assert backend.can_apply(offers["pause-2m"])
        assert not backend.can_apply(offers["consultation-call"])
        # No price configured for these yet: not offered, and the catalogue check says why.
        assert not backend.can_apply(offers["downgrade-basic"])
        assert not backend.can_apply(offers["free-premium-3m"])
        assert {w.obj.slug for w in catalogue_warnings() if w.id == "graceful_cancel.W011"} == {
            "downgrade-basic",
            "free-premium-3m",
        }
        # The test settings route consultations to staff: a discount still goes to Stripe.
        assert fulfilment.route_for(offers["discount-30-3m"]) == fulfilment.BACKEND
        assert fulfilment.route_for(offers["consultation-call"]).via == "staff"
    prices = {
        "STRIPE_PRICES": {"basic": "price_b"},
        "STRIPE_FEATURE_PRICES": {"premium-support": "price_f"},
    }
    with override_settings(GRACEFUL_CANCEL=gc_settings(**STRIPE, **prices)):
        backend = StripeSubscriptionBackend()
        assert backend.can_apply(offers["downgrade-basic"])
        assert backend.can_apply(offers["free-premium-3m"])


class LegacyBackend(ModelSubscriptionBackend):
    """A backend written before capabilities: no ``can_apply`` (as if it were not a subclass)."""

    can_apply = None  # type: ignore[assignment]


def test_a_backend_without_capabilities_applies_nothing_undeclared(catalogue):
    pause = RetentionOffer.objects.get(slug="pause-2m")
    assert not fulfilment.backend_applies(LegacyBackend(), pause)
    assert fulfilment.backend_applies(ModelSubscriptionBackend(), pause)


# --- the routes in settings -------------------------------------------------------------------


def route_check_ids(value: Any) -> list[str]:
    with override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_FULFILMENT=value)):
        return [str(m.id) for m in run_checks(tags=[Tags.compatibility]) if m.id]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"discount": "staff", "consultation": f"{THIS}.grant"}, []),
        ({"discount": {"route": "staff", "due_business_days": 5}}, []),
        ({"discount": "nowhere.grant"}, ["graceful_cancel.E004"]),
        ({"discount": "sometimes"}, ["graceful_cancel.E003"]),
        ({"coupon": "staff"}, ["graceful_cancel.E003"]),
        ({"discount": {"route": "staff", "due_business_days": -1}}, ["graceful_cancel.E003"]),
        (
            {"discount": {"route": f"{THIS}.grant", "due_business_days": 1}},
            ["graceful_cancel.E003"],
        ),
        ({"discount": f"{THIS}.THIS"}, ["graceful_cancel.E003"]),  # not callable
        (["staff"], ["graceful_cancel.E003"]),
    ],
)
def test_routes_are_checked(value, expected):
    assert route_check_ids(value) == expected


def test_every_active_offer_nobody_applies_is_a_warning(catalogue, plans):
    with override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_FULFILMENT={})):
        warned = {w.obj.slug: w for w in catalogue_warnings()}
    assert set(warned) == {"discount-30-3m", "free-premium-3m", "consultation-call"}
    assert {w.id for w in warned.values()} == {"graceful_cancel.W010"}
    assert "'discount'" in warned["discount-30-3m"].msg
    # With the suite's routes, nothing; an inactive offer is not checked.
    assert catalogue_warnings() == []
    RetentionOffer.objects.filter(slug="discount-30-3m").update(is_active=False)
    with override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_FULFILMENT={})):
        assert "discount-30-3m" not in {w.obj.slug for w in catalogue_warnings()}


def test_the_catalogue_check_is_silent_before_migrate(tmp_path):
    """``manage.py check`` on a database without the app's tables (a fresh install, a build
    step): no traceback, no warning about offers it cannot read."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--tag", "graceful_cancel"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "W010" not in result.stdout + result.stderr
    assert "no issues" in result.stdout


# --- a hook of the site -----------------------------------------------------------------------

#: What the hooks below saw, for the tests.
SEEN: list[dict[str, Any]] = []


def grant(*, case: Any, offer: Any, **kwargs: Any) -> dict[str, Any]:
    SEEN.append(
        {"case": case, "offer": offer, "atomic": transaction.get_connection().in_atomic_block}
    )
    return {"coupon": f"GIFT-{case.reference}"}


def refuse_for_now(*, case: Any, offer: Any, **kwargs: Any) -> None:
    raise BackendError("coupon service down")


def refuse_for_good(*, case: Any, offer: Any, **kwargs: Any) -> None:
    raise BackendError("already on a discount", transient=False)


def buggy(*, case: Any, offer: Any, **kwargs: Any) -> None:
    raise ValueError("a bug in the site's hook")


def hooked(name: str) -> dict[str, Any]:
    return flow_settings(OFFER_FULFILMENT={"discount": f"{THIS}.{name}"})


def test_a_hook_applies_the_offer_in_the_accept_transaction(customer, catalogue):
    SEEN.clear()
    with override_settings(GRACEFUL_CANCEL=hooked("grant")):
        case = open_case(customer)
        with capture(signals.offer_accepted) as sent:
            services.accept_offer(case, actor=customer)
    [call] = SEEN
    assert call["case"].pk == case.pk and call["offer"].slug == "discount-30-3m"
    assert call["atomic"] is True
    case.refresh_from_db()
    expected = {"kind": "discount", "applied_by": "hook", "coupon": f"GIFT-{case.reference}"}
    assert case.status == CaseStatus.SAVED
    assert case.offer_presentation.applied == expected
    assert sent[0]["applied"] == expected
    assert not FulfilmentTask.objects.exists()


@pytest.mark.parametrize(
    ("hook", "status", "words"),
    [
        ("refuse_for_now", 503, "try again"),
        ("refuse_for_good", 409, "be applied to your subscription"),
        ("buggy", 409, "be applied to your subscription"),
    ],
)
def test_a_hook_that_refuses_changes_nothing_and_keeps_the_way_out(
    client, customer, catalogue, hook, status, words, caplog
):
    with override_settings(GRACEFUL_CANCEL=hooked(hook)):
        case = open_case(customer)
        client.force_login(customer)
        with caplog.at_level(logging.WARNING, logger="django_graceful_cancel"):
            response = client.post(reverse("graceful_cancel:accept", args=[case.reference]))
    assert response.status_code == status
    html = response.content.decode().replace("&#x27;", "'")
    assert words in html
    if status == 409:  # for good: only the way out is left
        assert 'id="gc-confirm"' in html and 'id="gc-accept"' not in html
    else:  # try again, or cancel
        assert 'id="gc-accept"' in html and 'id="gc-decline"' in html
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.offer_presentation.outcome == OfferOutcome.PRESENTED
    if hook == "buggy":
        assert "a bug in the site's hook" in caplog.text  # the traceback is logged


# --- a task for staff -------------------------------------------------------------------------


MONDAY_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (MONDAY_NOON, 2, datetime(2026, 3, 4, 12, 0)),  # Wednesday noon
        (MONDAY_NOON + timedelta(days=4, hours=3), 2, datetime(2026, 3, 10, 15, 0)),  # Fri -> Tue
        (MONDAY_NOON + timedelta(days=5), 2, datetime(2026, 3, 11, 0, 0)),  # Sat -> Tue night
        (MONDAY_NOON + timedelta(days=6), 0, datetime(2026, 3, 9, 0, 0)),  # Sun, 0 -> Monday
    ],
)
def test_business_days_skip_weekends(start, days, due):
    assert fulfilment.add_business_days(start, days) == due.replace(tzinfo=ZoneInfo("UTC"))


@override_settings(TIME_ZONE="Europe/Madrid")
def test_business_days_count_in_the_sites_time_zone():
    # Friday 23:30 in UTC is already Saturday in Madrid: the clock starts on Monday there.
    friday_late = datetime(2026, 3, 6, 23, 30, tzinfo=ZoneInfo("UTC"))
    due = fulfilment.add_business_days(friday_late, 1)
    assert due == datetime(2026, 3, 10, 0, 0, tzinfo=ZoneInfo("Europe/Madrid"))


@pytest.fixture
def inline(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = flow_settings()


def test_staff_apply_a_routed_offer_and_the_customer_is_told_by_when(
    client, customer, catalogue, staff_user, inline
):
    case = open_case(customer)
    client.force_login(customer)
    # Before the answer: who applies it, and how soon.
    offer_page = client.get(reverse("graceful_cancel:offer", args=[case.reference]))
    assert "our team applies it for you within 2 business days" in offer_page.content.decode()
    CancellationCase.objects.filter(pk=case.pk).update(owner=staff_user)
    before = timezone.now()
    response = client.post(reverse("graceful_cancel:accept", args=[case.reference]))
    assert response.status_code == 302
    task = FulfilmentTask.objects.get(case=case)
    assert task.status == FulfilmentStatus.OPEN and task.offer.slug == "discount-30-3m"
    assert task.owner == staff_user
    assert task.due_at == fulfilment.add_business_days(task.created_at, 2)
    assert task.due_at > before + timedelta(days=1)
    case.refresh_from_db()
    assert case.offer_presentation.applied["applied_by"] == "staff"
    assert case.offer_presentation.applied["task"] == task.pk
    saved = client.get(response["Location"]).content.decode().replace("&#x27;", "'")
    assert "Our team applies this offer for you within 2 business days, by" in saved
    assert "You don't need to do anything" in saved
    # No email is promised: none is sent for a save.
    paragraph = saved.split('id="gc-fulfilment"')[1].split("</p>")[0]
    assert "email" not in paragraph.lower()
    assert mail.outbox == []


def test_the_api_tells_the_customer_who_applies_the_offer(client, customer, catalogue, inline):
    case = open_case(customer)
    client.force_login(customer)
    detail = client.get(reverse("graceful_cancel_api:case-detail", args=[case.reference])).json()
    assert detail["offer"]["fulfilment"] == {
        "by": "staff",
        "due_business_days": 2,
        "due_at": None,
        "message": "If you accept, our team applies it for you within 2 business days.",
    }
    accepted = client.post(
        reverse("graceful_cancel_api:case-accept-offer", args=[case.reference]),
        {},
        content_type="application/json",
    ).json()
    promise = accepted["offer"]["fulfilment"]
    task = FulfilmentTask.objects.get(case=case)
    assert promise["by"] == "staff" and promise["due_at"] is not None
    assert datetime.fromisoformat(promise["due_at"]) == task.due_at
    assert promise["message"].startswith(
        "Our team applies this offer for you within 2 business days, by "
    )


def test_an_offer_the_backend_applies_promises_nothing(client, make_customer, catalogue, inline):
    customer = make_customer()
    case = open_case(customer, "temporary")
    client.force_login(customer)
    detail = client.get(reverse("graceful_cancel_api:case-detail", args=[case.reference])).json()
    assert detail["offer"]["slug"] == "pause-2m" and detail["offer"]["fulfilment"] is None
    page = client.get(reverse("graceful_cancel:offer", args=[case.reference])).content.decode()
    assert "our team applies" not in page


def test_marking_a_task_done_records_it_and_tells_receivers(customer, catalogue, staff_user):
    case = open_case(customer)
    services.accept_offer(case, actor=customer)
    task = FulfilmentTask.objects.get(case=case)
    with capture(signals.offer_fulfilled) as sent:
        done = services.mark_fulfilment_done(task, actor=staff_user, note="  Coupon added.  ")
    assert done.status == FulfilmentStatus.DONE and done.done_by == staff_user
    assert done.note == "Coupon added." and done.done_at is not None
    event = case.events.get(kind=EventKind.FULFILMENT_DONE)
    assert event.actor == staff_user
    assert event.data == {
        "task": task.pk,
        "offer": "discount-30-3m",
        "late": False,
        "note": "Coupon added.",
    }
    assert [c["task"].pk for c in sent] == [task.pk] and sent[0]["case"].pk == case.pk
    with pytest.raises(InvalidTransition) as again:
        services.mark_fulfilment_done(task.pk, actor=staff_user)
    assert again.value.code == "fulfilment_already_done"
    assert case.events.filter(kind=EventKind.FULFILMENT_DONE).count() == 1


def test_assigning_a_task_records_it(customer, catalogue, staff_user):
    case = open_case(customer)
    services.accept_offer(case, actor=customer)
    task = FulfilmentTask.objects.get(case=case)
    with capture(signals.fulfilment_assigned) as sent:
        services.assign_fulfilment_task(task, staff_user, actor=staff_user)
    assert FulfilmentTask.objects.get(pk=task.pk).owner == staff_user
    assert sent[0]["owner"] == staff_user
    assert case.events.get(kind=EventKind.FULFILMENT_ASSIGNED).data["owner"] == "sam"
    with pytest.raises(InvalidTransition):
        services.assign_fulfilment_task(task, customer, actor=staff_user)  # not staff


def test_routes_removed_since_the_offer_was_shown_refuse_it_for_good(customer, catalogue):
    case = open_case(customer)
    with (
        override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_FULFILMENT={})),
        pytest.raises(OfferNotApplicable) as refused,
    ):
        services.accept_offer(case)
    assert refused.value.transient is False
    assert CancellationCase.objects.get(pk=case.pk).status == CaseStatus.OPEN


class StubbornPolicy:
    """A custom policy that offers the discount whatever happens."""

    def choose_offer(self, case: Any) -> Any:
        return RetentionOffer.objects.get(slug="discount-30-3m")


def test_no_policy_can_show_an_offer_nobody_applies(customer, catalogue, caplog):
    config = gc_settings(OFFER_POLICY=f"{THIS}.StubbornPolicy", OFFER_FULFILMENT={})
    with override_settings(GRACEFUL_CANCEL=config), caplog.at_level(logging.WARNING):
        case, _ = services.start_case(customer)
        services.record_reason(case, "price")
        assert services.present_offer(case) is None
    assert "nobody applies 'discount' offers" in caplog.text
    with override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_POLICY=f"{THIS}.StubbornPolicy")):
        assert services.present_offer(case).offer.slug == "discount-30-3m"


# --- the desk and the dashboard -----------------------------------------------------------------


@pytest.fixture
def tasks(make_customer: Any, catalogue: Any) -> list[FulfilmentTask]:
    found = []
    for _ in range(3):
        case = open_case(make_customer())
        services.accept_offer(case)
        found.append(FulfilmentTask.objects.get(case=case))
    FulfilmentTask.objects.filter(pk=found[0].pk).update(due_at=timezone.now() - timedelta(days=1))
    return found


def test_staff_work_the_tasks_in_the_admin(superuser_client, superuser, tasks):
    listing = reverse("admin:graceful_cancel_fulfilmenttask_changelist")
    page = superuser_client.get(listing)
    assert page.status_code == 200
    assert all(t.case.reference in page.content.decode() for t in tasks)
    overdue = superuser_client.get(listing, {"due": "overdue"}).content.decode()
    assert tasks[0].case.reference in overdue and tasks[1].case.reference not in overdue
    superuser_client.post(listing, {"action": "mark_applied", "_selected_action": [tasks[0].pk]})
    first = FulfilmentTask.objects.get(pk=tasks[0].pk)
    assert first.status == FulfilmentStatus.DONE and first.done_by == superuser
    # The task's page: a note and "Applied" close it through the service.
    change = reverse("admin:graceful_cancel_fulfilmenttask_change", args=[tasks[1].pk])
    response = superuser_client.post(
        change, {"owner": superuser.pk, "note": "Called, done.", "applied": "on"}
    )
    assert response.status_code == 302
    second = FulfilmentTask.objects.get(pk=tasks[1].pk)
    assert (second.status, second.owner, second.note) == (
        FulfilmentStatus.DONE,
        superuser,
        "Called, done.",
    )
    assert tasks[1].case.events.filter(kind=EventKind.FULFILMENT_ASSIGNED).exists()
    # Nobody adds or deletes tasks by hand; the case page shows its task.
    assert (
        superuser_client.get(reverse("admin:graceful_cancel_fulfilmenttask_add")).status_code == 403
    )
    case_page = superuser_client.get(
        reverse("admin:graceful_cancel_cancellationcase_change", args=[tasks[2].case_id])
    ).content.decode()
    assert "offer to apply" in case_page.lower()


def test_the_dashboard_counts_open_overdue_and_done(superuser_client, tasks, fresh_dashboard_cache):
    services.mark_fulfilment_done(tasks[1], actor="system")
    FulfilmentTask.objects.filter(pk=tasks[1].pk).update(
        done_at=tasks[1].due_at + timedelta(hours=1)
    )
    figures = analytics.dashboard()["fulfilment"]
    assert figures == {"open": 2, "overdue": 1, "done": 1, "done_late": 1}
    page = superuser_client.get(reverse("admin:graceful_cancel_dashboard")).content.decode()
    assert 'data-figure="fulfilment_open"' in page and "1 overdue" in page
    rows = analytics.dashboard_rows(analytics.dashboard())
    assert ("fulfilment", "all", "overdue", 1) in rows


def test_a_tasks_note_is_exported_and_erased_with_the_customers_data(
    customer, catalogue, staff_user
):
    case = open_case(customer)
    services.accept_offer(case, actor=customer)
    task = FulfilmentTask.objects.get(case=case)
    services.mark_fulfilment_done(
        task, actor=staff_user, note="Coupon ALICE-30 for alice@example.com"
    )
    exported = services.export_customer_data(customer, actor=staff_user)
    assert exported["cases"][0]["offer_task"]["note"] == "Coupon ALICE-30 for alice@example.com"
    services.erase_customer(customer, actor=staff_user)
    assert FulfilmentTask.objects.get(pk=task.pk).note == ""
    done = case.events.get(kind=EventKind.FULFILMENT_DONE)
    assert "alice@example.com" not in str(done.data)
