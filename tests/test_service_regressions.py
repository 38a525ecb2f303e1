"""Regressions found in review: provider calls and outer transactions, reactivation after a failed
sync, declarations left for staff, changes reported by the provider, consent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import CaseStatus, SyncStatus
from django_graceful_cancel.models import CancellationCase, CancellationDeclaration, FollowUp
from tests.testapp.models import Subscription


@pytest.mark.django_db(transaction=True)
def test_the_provider_is_told_only_once_the_callers_transaction_commits(customer, catalogue):
    case, _ = services.start_case(customer)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.confirm_cancellation(case)
        assert Subscription.objects.get(user=customer).cancel_at_period_end is False
        raise RuntimeError("the caller's request failed after the confirm")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert Subscription.objects.get(user=customer).cancel_at_period_end is False

    with transaction.atomic():
        services.confirm_cancellation(case)
        assert Subscription.objects.get(user=customer).cancel_at_period_end is False
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED and case.provider_sync == SyncStatus.SYNCED
    assert Subscription.objects.get(user=customer).cancel_at_period_end is True


@pytest.mark.django_db(transaction=True)
def test_reactivation_inside_a_callers_transaction_waits_for_the_commit(customer, catalogue):
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case)
    with transaction.atomic():
        services.reactivate(case)
        assert Subscription.objects.get(user=customer).cancel_at_period_end is True
    assert Subscription.objects.get(user=customer).cancel_at_period_end is False


@pytest.mark.django_db
def test_a_declaration_left_open_for_staff_is_never_abandoned(make_customer, catalogue):
    declared, _ = services.start_case(make_customer())
    walked_away, _ = services.start_case(make_customer())
    CancellationDeclaration.objects.create(name="Ana", email="ana@example.com", case=declared)
    CancellationCase.objects.update(updated_at=timezone.now() - timedelta(days=10))
    assert services.abandon_stale() == 1
    declared.refresh_from_db()
    walked_away.refresh_from_db()
    assert (declared.status, walked_away.status) == (CaseStatus.OPEN, CaseStatus.ABANDONED)


@pytest.mark.django_db
def test_a_cancellation_reported_by_the_provider_gets_the_confirmation_and_follow_ups(
    customer, catalogue
):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    services.present_offer(case)
    services.record_external_cancellation(
        case.subscription_ref, immediately=False, event_id="evt_1"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED and case.provider_sync == SyncStatus.SYNCED
    assert case.offer_presentation.outcome == "declined"
    stages = set(FollowUp.objects.filter(case=case).values_list("stage", flat=True))
    assert "confirmation" in stages


@pytest.mark.django_db
def test_a_reactivation_reported_by_the_provider_stops_the_follow_ups(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(
        case, "price", preferred_channel="phone", contact_consent=True, contact_phone="+34600000000"
    )
    services.confirm_cancellation(case)
    assert FollowUp.objects.filter(case=case, status="scheduled").exists()
    services.record_external_reactivation(case.subscription_ref, event_id="evt_2")
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED
    assert not FollowUp.objects.filter(case=case, status="scheduled").exists()


@pytest.mark.django_db
def test_a_phone_number_is_kept_only_with_consent(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, None, preferred_channel="sms", contact_phone="+34600000000")
    case.refresh_from_db()
    assert case.contact_phone == ""
    services.record_reason(
        case, None, preferred_channel="sms", contact_consent=True, contact_phone="+34600000000"
    )
    case.refresh_from_db()
    assert case.contact_phone == "+34600000000"


@pytest.mark.django_db
def test_admin_lists_cases_whose_provider_sync_needs_attention(
    client, make_customer, catalogue, django_user_model
):
    pending, _ = services.start_case(make_customer())
    stuck, _ = services.start_case(make_customer())
    fine, _ = services.start_case(make_customer())
    CancellationCase.objects.filter(pk=pending.pk).update(
        provider_sync="pending", provider_sync_attempts=1
    )
    CancellationCase.objects.filter(pk=stuck.pk).update(
        provider_sync="pending", provider_sync_attempts=10
    )
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(admin)
    url = "/admin/graceful_cancel/cancellationcase/"
    pending_page = client.get(url, {"sync": "pending"}).content.decode()
    attention_page = client.get(url, {"sync": "attention"}).content.decode()
    assert pending.reference in pending_page and stuck.reference in pending_page
    assert fine.reference not in pending_page
    assert stuck.reference in attention_page and pending.reference not in attention_page


@pytest.mark.django_db
def test_an_older_cases_late_sync_never_undoes_a_newer_cancellation(customer, catalogue, settings):
    from tests.support import gc_settings
    from tests.support.backends import FailingBackend

    settings.GRACEFUL_CANCEL = gc_settings(
        SUBSCRIPTION_BACKEND="tests.support.backends.FailingBackend"
    )
    old, _ = services.start_case(customer)
    services.confirm_cancellation(old)
    # The reactivation call times out, so its sync stays pending...
    FailingBackend.failures["reactivate_times_out"] = 1
    services.reactivate(old)
    old.refresh_from_db()
    assert old.provider_sync == SyncStatus.PENDING
    # ...although the provider did renew the subscription (a timeout after the change; with the
    # model backend the provider is this database, so the rolled-back write is redone here).
    Subscription.objects.filter(user=customer).update(cancel_at_period_end=False, canceled_at=None)
    # Meanwhile the customer cancels again, in a new case, and the provider applies it.
    new, _ = services.start_case(customer)
    services.confirm_cancellation(new)
    assert Subscription.objects.get(user=customer).cancel_at_period_end is True
    # The old reactivation's retry must not renew the subscription behind the new case.
    services.retry_provider_sync(old)
    old.refresh_from_db()
    assert old.provider_sync == SyncStatus.NOT_NEEDED
    assert old.events.last().data["skipped"] == "superseded by a newer case"
    assert Subscription.objects.get(user=customer).cancel_at_period_end is True
