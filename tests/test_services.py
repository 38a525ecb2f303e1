"""The service layer: every transition, every illegal one, the offer policy and backend failures."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.dispatch import Signal
from django.test import TestCase, override_settings
from django.utils import timezone

from django_graceful_cancel import services, signals
from django_graceful_cancel.choices import CaseStatus, EventKind, OfferOutcome, SyncStatus
from django_graceful_cancel.exceptions import (
    BackendError,
    InvalidTransition,
    NoActiveSubscription,
    UnknownReason,
)
from django_graceful_cancel.models import (
    CancellationCase,
    OfferPresentation,
    Reason,
    RetentionOffer,
)
from django_graceful_cancel.services import cases as cases_services
from tests.support import gc_settings
from tests.support.backends import FailingBackend
from tests.testapp.models import Subscription

pytestmark = pytest.mark.django_db


@contextmanager
def capture(signal: Signal):
    """The calls ``signal`` makes to a receiver while the block runs. Signals reach receivers
    after the commit, which a test's transaction never reaches: the block runs the on-commit
    callbacks it registered as it ends, as a commit would."""
    calls: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        calls.append(kwargs)

    signal.connect(receiver)
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            yield calls
    finally:
        signal.disconnect(receiver)


def kinds(case: CancellationCase) -> list[str]:
    return list(case.events.order_by("pk").values_list("kind", flat=True))


FAILING = "tests.support.backends.FailingBackend"


# --- start -------------------------------------------------------------------------------------


def test_start_creates_case_with_snapshot_event_and_signal(customer, catalogue):
    with capture(signals.case_started) as sent:
        case, created = services.start_case(customer, language="es")
    assert created is True
    assert case.status == CaseStatus.OPEN
    assert re.fullmatch(
        r"GC-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", case.reference
    )
    sub = Subscription.objects.get(user=customer)
    assert case.subscription_ref == f"testapp.subscription:{sub.pk}"
    assert (case.plan, case.price, case.currency, case.billing_interval) == (
        "Standard",
        Decimal("12.99"),
        "EUR",
        "month",
    )
    assert case.tenure_days == 400
    assert case.period_end == sub.current_period_end
    assert case.language == "es"
    assert case.compliance_profile == "us"  # called "default" before 0.2
    assert case.priority > 0
    assert kinds(case) == [EventKind.STARTED]
    assert [c["case"] for c in sent] == [case]


def test_start_again_returns_the_open_case(customer, catalogue):
    first, created = services.start_case(customer)
    again, created_again = services.start_case(customer)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert CancellationCase.objects.count() == 1


def test_start_without_subscription_is_a_clear_error(make_customer, catalogue):
    with pytest.raises(NoActiveSubscription) as info:
        services.start_case(make_customer("nosub", subscribed=False))
    assert info.value.code == "no_active_subscription"


def test_start_after_cancellation_of_a_canceled_subscription_refuses(customer, catalogue):
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case, effective="immediately")
    with pytest.raises(NoActiveSubscription):
        services.start_case(customer)


def test_references_are_unique_and_unguessable(make_customer, catalogue):
    refs = {services.start_case(make_customer())[0].reference for _ in range(20)}
    assert len(refs) == 20


# --- reason ------------------------------------------------------------------------------------


def test_record_reason(customer, catalogue):
    case, _ = services.start_case(customer)
    with capture(signals.reason_recorded) as sent:
        case = services.record_reason(
            case, "price", detail="  Too dear  ", preferred_channel="sms", contact_consent=True
        )
    case.refresh_from_db()
    assert case.reason.slug == "price"
    assert case.reason_detail == "Too dear"
    assert case.preferred_channel == "sms"
    assert case.contact_consent is True and case.contact_consent_at is not None
    assert kinds(case)[-1] == EventKind.REASON_RECORDED
    assert sent[0]["reason"].slug == "price"


def test_reason_is_optional(customer, catalogue):
    case, _ = services.start_case(customer)
    case = services.record_reason(case, None)
    assert case.reason is None
    assert services.present_offer(case) is None


def test_unknown_reason_is_rejected(customer, catalogue):
    case, _ = services.start_case(customer)
    with pytest.raises(UnknownReason):
        services.record_reason(case, "not-a-reason")
    Reason.objects.filter(slug="price").update(is_active=False)
    with pytest.raises(UnknownReason):
        services.record_reason(case, "price")


def test_unknown_channel_is_rejected(customer, catalogue):
    case, _ = services.start_case(customer)
    with pytest.raises(InvalidTransition) as info:
        services.record_reason(case, "price", preferred_channel="pigeon")
    assert info.value.code == "unknown_channel"


# --- offers ------------------------------------------------------------------------------------


def test_price_gets_the_discount_offer_once(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    with capture(signals.offer_presented) as sent:
        presentation = services.present_offer(case)
        again = services.present_offer(case)
    assert presentation.offer.slug == "discount-30-3m"
    assert again.pk == presentation.pk
    assert len(sent) == 1
    assert OfferPresentation.objects.filter(case=case).count() == 1
    assert kinds(case).count(EventKind.OFFER_PRESENTED) == 1


def test_changing_reason_after_an_offer_never_shows_a_second_offer(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    first = services.present_offer(case)
    services.record_reason(case, "temporary")
    assert services.present_offer(case).pk == first.pk
    assert OfferPresentation.objects.filter(case=case).count() == 1


def test_business_closed_gets_no_offer(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, "business-closed")
    assert services.present_offer(case) is None
    assert EventKind.OFFER_PRESENTED not in kinds(case)


def test_no_offer_within_a_year_of_accepting_one(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    services.present_offer(case)
    services.accept_offer(case)
    OfferPresentation.objects.update(decided_at=timezone.now() - timedelta(days=364))
    second, _ = services.start_case(customer)
    services.record_reason(second, "temporary")
    assert services.present_offer(second) is None


def test_offer_again_after_the_cooldown(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    services.present_offer(case)
    services.accept_offer(case)
    OfferPresentation.objects.update(decided_at=timezone.now() - timedelta(days=366))
    second, _ = services.start_case(customer)
    services.record_reason(second, "temporary")
    assert services.present_offer(second).offer.slug == "pause-2m"


@override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_COOLDOWN_DAYS=10))
def test_cooldown_is_configurable(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    services.present_offer(case)
    services.accept_offer(case)
    OfferPresentation.objects.update(decided_at=timezone.now() - timedelta(days=11))
    second, _ = services.start_case(customer)
    services.record_reason(second, "temporary")
    assert services.present_offer(second) is not None


def test_a_declined_offer_is_never_shown_again(customer, catalogue):
    discount = RetentionOffer.objects.get(slug="discount-30-3m")
    downgrade = RetentionOffer.objects.get(slug="downgrade-basic")
    downgrade.reasons.add(Reason.objects.get(slug="price"))
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    assert services.present_offer(case).offer == discount
    services.decline_offer(case)
    services.confirm_cancellation(case)
    services.reactivate(case)
    second, _ = services.start_case(customer)
    services.record_reason(second, "price")
    assert services.present_offer(second).offer == downgrade


def test_downgrade_to_the_current_plan_is_not_offered(make_customer, catalogue):
    user = make_customer("basicuser", plan="basic")
    case, _ = services.start_case(user)
    services.record_reason(case, "unmet-expectations")
    assert services.present_offer(case) is None


@override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_POLICY="tests.test_services.NeverPolicy"))
def test_offer_policy_is_replaceable(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    assert services.present_offer(case) is None


class NeverPolicy:
    def choose_offer(self, case: Any) -> None:
        return None


def test_accept_offer_applies_it_and_saves_the_case(customer, catalogue, plans):
    case, _ = services.start_case(customer)
    services.record_reason(case, "unmet-expectations")
    presentation = services.present_offer(case)
    assert presentation.offer.slug == "downgrade-basic"
    with capture(signals.offer_accepted) as sent:
        case = services.accept_offer(case, actor=customer)
    case.refresh_from_db()
    presentation.refresh_from_db()
    assert case.status == CaseStatus.SAVED and case.saved_at is not None
    assert presentation.outcome == OfferOutcome.ACCEPTED
    assert presentation.applied == {"kind": "downgrade", "plan": "Basic"}
    assert Subscription.objects.get(user=customer).plan == plans["basic"]
    assert kinds(case)[-1] == EventKind.OFFER_ACCEPTED
    assert sent[0]["applied"]["plan"] == "Basic"


def test_accept_extension_moves_the_period_end(customer, catalogue):
    offer = RetentionOffer.objects.get(slug="extension-1m")
    offer.reasons.add(Reason.objects.get(slug="other"))
    sub = Subscription.objects.get(user=customer)
    before = sub.current_period_end
    case, _ = services.start_case(customer)
    services.record_reason(case, "other")
    services.present_offer(case)
    services.accept_offer(case)
    sub.refresh_from_db()
    assert sub.current_period_end == before + timedelta(days=30)


def test_accept_pause_sets_paused_until(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, "temporary")
    services.present_offer(case)
    services.accept_offer(case)
    sub = Subscription.objects.get(user=customer)
    assert sub.paused_until is not None
    assert sub.paused_until > timezone.now() + timedelta(days=59)


def test_accept_without_offer_is_an_error(customer, catalogue):
    case, _ = services.start_case(customer)
    with pytest.raises(InvalidTransition) as info:
        services.accept_offer(case)
    assert info.value.code == "no_offer"


@override_settings(GRACEFUL_CANCEL=gc_settings(SUBSCRIPTION_BACKEND=FAILING))
def test_accept_when_the_backend_fails_changes_nothing(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    services.present_offer(case)
    with pytest.raises(BackendError):
        services.accept_offer(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.offer_presentation.outcome == OfferOutcome.PRESENTED
    # The way out is still there.
    services.confirm_cancellation(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED


def test_decline_keeps_the_case_open(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    services.present_offer(case)
    with capture(signals.offer_declined) as sent:
        services.decline_offer(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.offer_presentation.outcome == OfferOutcome.DECLINED
    assert len(sent) == 1
    with pytest.raises(InvalidTransition) as info:
        services.decline_offer(case)
    assert info.value.code == "offer_already_decided"
    with pytest.raises(InvalidTransition):
        services.accept_offer(case)


# --- confirm -----------------------------------------------------------------------------------


# The confirmation goes through the follow-up outbox; "inline" sends it right after the
# commit, in this process, instead of through the Celery broker.
@override_settings(GRACEFUL_CANCEL=gc_settings(FOLLOWUP_DISPATCH="inline"))
def test_confirm_without_reason_or_offer(customer, catalogue, django_capture_on_commit_callbacks):
    case, _ = services.start_case(customer)
    with django_capture_on_commit_callbacks(execute=True), capture(signals.case_cancelled) as sent:
        case = services.confirm_cancellation(case, actor=customer)
    case.refresh_from_db()
    sub = Subscription.objects.get(user=customer)
    assert case.status == CaseStatus.CANCELLED
    assert case.cancelled_at is not None
    assert case.effective_mode == "period_end"
    assert case.effective_at == sub.current_period_end
    assert case.provider_sync == SyncStatus.SYNCED
    assert sub.cancel_at_period_end is True and sub.status == "active"
    assert kinds(case) == [
        EventKind.STARTED,
        EventKind.CANCELLED,
        EventKind.PROVIDER_SYNCED,
        EventKind.MESSAGE_SENT,
    ]
    assert len(sent) == 1
    assert len(mail.outbox) == 1
    assert case.reference in mail.outbox[0].subject
    assert mail.outbox[0].to == ["alice@example.com"]
    assert case.reference in mail.outbox[0].body


def test_confirm_immediately(customer, catalogue):
    case, _ = services.start_case(customer)
    case = services.confirm_cancellation(case, effective="immediately")
    sub = Subscription.objects.get(user=customer)
    assert case.effective_mode == "immediately"
    assert case.effective_at <= timezone.now()
    assert sub.status == "canceled" and sub.canceled_at is not None


def test_confirm_with_a_pending_offer_declines_it(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    services.present_offer(case)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    assert case.offer_presentation.outcome == OfferOutcome.DECLINED
    assert kinds(case)[-3:] == [
        EventKind.OFFER_DECLINED,
        EventKind.CANCELLED,
        EventKind.PROVIDER_SYNCED,
    ]


@override_settings(GRACEFUL_CANCEL=gc_settings(FOLLOWUP_DISPATCH="inline"))
def test_double_confirm_cancels_once(customer, catalogue, django_capture_on_commit_callbacks):
    case, _ = services.start_case(customer)
    stale = CancellationCase.objects.get(pk=case.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_cancellation(case)
        with pytest.raises(InvalidTransition) as info:
            services.confirm_cancellation(stale)
    assert info.value.code == "case_not_open"
    assert kinds(case).count(EventKind.CANCELLED) == 1
    assert len(mail.outbox) == 1


def test_confirm_survives_a_mail_failure(
    customer, catalogue, django_capture_on_commit_callbacks, email_backend, settings
):
    # Through the settings fixture, like email_backend: mixing it with @override_settings
    # restored the decorator's settings after the test and leaked them into the next ones.
    settings.GRACEFUL_CANCEL = gc_settings(FOLLOWUP_DISPATCH="inline")
    email_backend("tests.test_services.BrokenMailBackend")
    case, _ = services.start_case(customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_cancellation(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED


class BrokenMailBackend:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise ConnectionError("SMTP down")


@override_settings(GRACEFUL_CANCEL=gc_settings(SUBSCRIPTION_BACKEND=FAILING))
def test_backend_failure_at_confirm_keeps_the_cancellation_and_retries(customer, catalogue):
    FailingBackend.failures["cancel"] = 2
    case, _ = services.start_case(customer)
    with capture(signals.provider_sync_failed) as failed:
        case = services.confirm_cancellation(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.provider_sync == SyncStatus.PENDING
    assert case.provider_sync_attempts == 1
    assert "provider down" in case.provider_sync_error
    assert kinds(case)[-1] == EventKind.PROVIDER_SYNC_FAILED
    assert len(failed) == 1
    assert failed[0]["needs_attention"] is False
    assert Subscription.objects.get(user=customer).cancel_at_period_end is False
    # Backing off: not due again for a minute after the first failure, two after the second.
    assert cases_services.pending_sync_cases() == []
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert cases_services.pending_sync_cases() == [case.pk]
        call_command("graceful_cancel_sync", stdout=open("/dev/null", "w"))  # still failing  # noqa: SIM115
        case.refresh_from_db()
        assert (case.provider_sync, case.provider_sync_attempts) == (SyncStatus.PENDING, 2)
        assert cases_services.pending_sync_cases() == []
    with time_machine.travel(timezone.now() + timedelta(seconds=61 + 121)):
        call_command("graceful_cancel_sync", stdout=open("/dev/null", "w"))  # noqa: SIM115
    case.refresh_from_db()
    assert case.provider_sync == SyncStatus.SYNCED
    assert case.status == CaseStatus.CANCELLED
    assert Subscription.objects.get(user=customer).cancel_at_period_end is True
    assert cases_services.pending_sync_cases() == []
    # Idempotent: a second retry changes nothing.
    services.retry_provider_sync(case)
    assert kinds(case).count(EventKind.PROVIDER_SYNCED) == 1


@override_settings(
    GRACEFUL_CANCEL=gc_settings(SUBSCRIPTION_BACKEND=FAILING, PROVIDER_SYNC_MAX_ATTEMPTS=2)
)
def test_provider_sync_needs_attention_after_max_attempts_and_keeps_retrying(customer, catalogue):
    FailingBackend.failures["cancel"] = 5
    case, _ = services.start_case(customer)
    with capture(signals.provider_sync_failed) as failed:
        services.confirm_cancellation(case)
        services.retry_provider_sync(case)
        services.retry_provider_sync(case)
    assert [f["needs_attention"] for f in failed] == [False, True, True]
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED and case.provider_sync == SyncStatus.PENDING
    last = case.events.filter(kind=EventKind.PROVIDER_SYNC_FAILED).last()
    assert last.data["needs_attention"] is True and last.data["attempts"] == 3
    # Never more than a day between attempts, however many failures.
    assert cases_services.sync_backoff(50) == timedelta(days=1)
    assert case.provider_sync_next_at <= timezone.now() + timedelta(minutes=4, seconds=1)
    FailingBackend.failures["cancel"] = 0


# --- reactivate and abandon --------------------------------------------------------------------


def test_reactivate(customer, catalogue):
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case)
    with capture(signals.case_reactivated) as sent:
        case = services.reactivate(case, actor=customer)
    case.refresh_from_db()
    sub = Subscription.objects.get(user=customer)
    assert case.status == CaseStatus.REACTIVATED and case.reactivated_at is not None
    assert case.provider_sync == SyncStatus.SYNCED
    assert sub.cancel_at_period_end is False and sub.canceled_at is None
    assert kinds(case)[-2:] == [EventKind.REACTIVATED, EventKind.PROVIDER_SYNCED]
    assert len(sent) == 1


def test_reactivate_after_the_effective_date_is_refused(customer, catalogue):
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case)
    CancellationCase.objects.filter(pk=case.pk).update(
        effective_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(InvalidTransition) as info:
        services.reactivate(case)
    assert info.value.code == "reactivation_window_closed"


@override_settings(GRACEFUL_CANCEL=gc_settings(SUBSCRIPTION_BACKEND=FAILING))
def test_reactivate_while_the_cancellation_sync_is_pending_still_tells_the_provider(
    customer, catalogue
):
    # The failed cancel may have been applied at the provider all the same (a timeout after
    # the change): reactivation always asks the provider to renew, which is idempotent.
    FailingBackend.failures["cancel"] = 1
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case)
    Subscription.objects.filter(user=customer).update(cancel_at_period_end=True)
    case = services.reactivate(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED
    assert case.provider_sync == SyncStatus.SYNCED
    assert kinds(case)[-2:] == [EventKind.REACTIVATED, EventKind.PROVIDER_SYNCED]
    assert Subscription.objects.get(user=customer).cancel_at_period_end is False


def test_abandon_and_abandon_stale(make_customer, catalogue):
    fresh, _ = services.start_case(make_customer())
    stale, _ = services.start_case(make_customer())
    CancellationCase.objects.filter(pk=stale.pk).update(
        updated_at=timezone.now() - timedelta(hours=49)
    )
    with capture(signals.case_abandoned) as sent:
        assert services.abandon_stale() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, fresh.status) == (CaseStatus.ABANDONED, CaseStatus.OPEN)
    assert sent[0]["case"].pk == stale.pk
    call_command("graceful_cancel_abandon", "--hours", "0", stdout=open("/dev/null", "w"))  # noqa: SIM115
    fresh.refresh_from_db()
    assert fresh.status == CaseStatus.ABANDONED


# --- illegal transitions -----------------------------------------------------------------------


def _case_in(status: str, customer: Any) -> CancellationCase:
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    services.present_offer(case)
    if status == CaseStatus.SAVED:
        services.accept_offer(case)
    elif status == CaseStatus.CANCELLED:
        services.confirm_cancellation(case)
    elif status == CaseStatus.REACTIVATED:
        services.confirm_cancellation(case)
        services.reactivate(case)
    elif status == CaseStatus.ABANDONED:
        services.abandon(case)
    case.refresh_from_db()
    assert case.status == status
    return case


CLOSED = [CaseStatus.SAVED, CaseStatus.CANCELLED, CaseStatus.REACTIVATED, CaseStatus.ABANDONED]
OPEN_ONLY = {
    "record_reason": lambda case: services.record_reason(case, "quality"),
    "accept_offer": services.accept_offer,
    "decline_offer": services.decline_offer,
    "confirm_cancellation": services.confirm_cancellation,
    "abandon": services.abandon,
}


@pytest.mark.parametrize("status", CLOSED)
@pytest.mark.parametrize("action", sorted(OPEN_ONLY))
def test_open_only_transitions_refuse_closed_cases(status, action, customer, catalogue):
    case = _case_in(status, customer)
    events = case.events.count()
    with pytest.raises(InvalidTransition) as info:
        OPEN_ONLY[action](case)
    assert info.value.code == "case_not_open"
    case.refresh_from_db()
    assert case.status == status
    assert case.events.count() == events


@pytest.mark.parametrize(
    "status", [CaseStatus.OPEN, CaseStatus.SAVED, CaseStatus.REACTIVATED, CaseStatus.ABANDONED]
)
def test_reactivate_refuses_cases_that_are_not_cancelled(status, customer, catalogue):
    case = (
        _case_in(status, customer)
        if status != CaseStatus.OPEN
        else services.start_case(customer)[0]
    )
    with pytest.raises(InvalidTransition) as info:
        services.reactivate(case)
    assert info.value.code == "case_not_cancelled"


def test_unknown_effective_mode(customer, catalogue):
    case, _ = services.start_case(customer)
    with pytest.raises(InvalidTransition) as info:
        services.confirm_cancellation(case, effective="yesterday")
    assert info.value.code == "unknown_effective_mode"


# --- staff -------------------------------------------------------------------------------------


def test_assign_owner_and_root_cause(customer, staff_user, catalogue):
    case, _ = services.start_case(customer)
    with capture(signals.owner_assigned) as owners, capture(signals.root_cause_set) as causes:
        services.assign_owner(case, staff_user, actor=staff_user)
        services.set_root_cause(
            case, "missing-features", detail="Wanted offline mode", actor=staff_user
        )
    case.refresh_from_db()
    assert case.owner == staff_user
    assert case.root_cause.slug == "missing-features"
    events = list(case.events.filter(kind__in=[EventKind.OWNER_ASSIGNED, EventKind.ROOT_CAUSE_SET]))
    assert [e.actor_label for e in events] == ["staff:sam", "staff:sam"]
    assert events[0].actor == staff_user
    assert len(owners) == len(causes) == 1
    with pytest.raises(InvalidTransition):
        services.assign_owner(case, customer, actor=staff_user)


def test_timeline_is_append_only(customer, catalogue):
    case, _ = services.start_case(customer)
    event = case.events.get()
    event.data = {"tampered": True}
    with pytest.raises(ValueError, match="append-only"):
        event.save()
