"""Privacy: export, erasure keeping anonymous figures, purge, all recorded; and the save checks."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import analytics, services, signals, tasks
from django_graceful_cancel.choices import CaseStatus, EventKind, SyncStatus
from django_graceful_cancel.models import (
    CallTask,
    CancellationCase,
    CaseEvent,
    FollowUp,
    OfferPresentation,
    PrivacyRequest,
    SaveCheck,
    StaffNote,
)
from tests.support import gc_settings
from tests.testapp.models import Subscription

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_dashboard_cache")]


@pytest.fixture
def alice_cases(customer: Any, staff_user: Any, catalogue: Any) -> list[CancellationCase]:
    """Two cases of one customer: one saved with an offer, one cancelled asking for a call."""
    first, _ = services.start_case(customer)
    services.record_reason(first, "price", detail="My rent went up", contact_phone="+34600111222")
    services.present_offer(first)
    services.accept_offer(first)
    services.set_root_cause(
        first, "unmet-expectations", detail="Alice expected HD", actor=staff_user
    )
    services.add_note(first, "Alice said she may come back", actor=staff_user)
    CancellationCase.objects.filter(pk=first.pk).update(
        survey_score=4, survey_comment="Alice liked the staff"
    )
    second, _ = services.start_case(customer)
    services.record_reason(
        second,
        "competitor",
        preferred_channel="phone",
        contact_consent=True,
        contact_phone="+34600111222",
    )
    services.confirm_cancellation(second)
    return [first, second]


# --- export ------------------------------------------------------------------------------------


def test_export_has_everything_and_is_recorded(
    customer, staff_user, alice_cases, django_capture_on_commit_callbacks
):
    with_signal: list[dict] = []
    signals.customer_exported.connect(receiver := lambda **kw: with_signal.append(kw))
    try:
        with django_capture_on_commit_callbacks(execute=True):  # signals follow the commit
            data = services.export_customer_data(customer, actor=staff_user)
    finally:
        signals.customer_exported.disconnect(receiver)
    json.dumps(data)  # JSON-ready
    assert data["customer"] == {
        "id": customer.pk,
        "username": "alice",
        "email": "alice@example.com",
        "name": "Alice",
    }
    by_ref = {c["reference"]: c for c in data["cases"]}
    first, second = (by_ref[c.reference] for c in alice_cases)
    assert first["reason_detail"] == "My rent went up"
    assert first["offer"]["offer"] == "discount-30-3m" and first["offer"]["outcome"] == "accepted"
    assert first["staff_notes"][0]["note"] == "Alice said she may come back"
    assert first["root_cause"] == "unmet-expectations"
    assert [e["kind"] for e in first["timeline"]][:2] == ["started", "reason_recorded"]
    assert second["contact_phone"] == "+34600111222"
    assert {f["stage"] for f in second["follow_ups"]} >= {"confirmation"}
    request = PrivacyRequest.objects.get()
    assert (request.kind, request.subject, request.cases) == ("export", str(customer.pk), 2)
    assert request.requested_by == staff_user
    for case in alice_cases:
        assert case.events.filter(kind=EventKind.EXPORTED, actor=staff_user).exists()
    assert with_signal[0]["request"] == request


def test_export_command(customer, alice_cases, tmp_path):
    out = io.StringIO()
    call_command("graceful_cancel_export_customer", "alice@example.com", stdout=out)
    assert len(json.loads(out.getvalue())["cases"]) == 2
    target = tmp_path / "alice.json"
    call_command(
        "graceful_cancel_export_customer", str(customer.pk), "-o", str(target), stderr=io.StringIO()
    )
    assert json.loads(target.read_text())["customer"]["username"] == "alice"
    assert (
        PrivacyRequest.objects.filter(kind="export", actor_label="command:export_customer").count()
        == 2
    )
    with pytest.raises(CommandError, match="No customer"):
        call_command("graceful_cancel_export_customer", "nobody")


# --- erasure -----------------------------------------------------------------------------------


def test_erase_removes_personal_data_and_keeps_the_figures(customer, staff_user, alice_cases):
    before = analytics.dashboard(*analytics.default_range())
    request = services.erase_customer(customer, actor=staff_user)
    after = analytics.dashboard(*analytics.default_range())
    # The anonymous figures are the same (only the request's own timestamps differ).
    for key in ("summary", "reasons", "offers_by_reason", "revenue", "surveys", "reactivations"):
        assert after[key] == before[key], key

    for case in CancellationCase.objects.filter(pk__in=[c.pk for c in alice_cases]):
        assert case.customer_id is None
        assert case.reason_detail == case.root_cause_detail == case.contact_phone == ""
        assert case.survey_comment == ""
        assert case.subscription_ref == f"erased:{case.pk}"
        assert case.reason is not None  # anonymous figures stay
        assert case.events.filter(kind=EventKind.ERASED, actor=staff_user).exists()
    first = CancellationCase.objects.get(pk=alice_cases[0].pk)
    assert (first.status, first.survey_score, str(first.price)) == (CaseStatus.SAVED, 4, "12.99")
    assert not OfferPresentation.objects.filter(customer=customer).exists()
    assert set(StaffNote.objects.values_list("body", flat=True)) == {""}
    texts = json.dumps(list(CaseEvent.objects.values_list("data", flat=True)))
    assert "Alice" not in texts and "rent" not in texts
    assert not CaseEvent.objects.filter(actor=customer).exists()
    assert not CancellationCase.objects.filter(customer=customer).exists()
    assert not FollowUp.objects.filter(case__in=alice_cases, status="scheduled").exists()
    assert set(FollowUp.objects.values_list("recipient", flat=True)) <= {""}
    assert set(CallTask.objects.values_list("phone", flat=True)) <= {""}
    assert (request.kind, request.subject, request.cases) == ("erase", str(customer.pk), 2)
    assert "alice" not in json.dumps(request.detail).lower()
    # The customer's account itself is the host's to delete.
    customer.refresh_from_db()


def test_erase_command_asks_first(customer, alice_cases, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    with pytest.raises(CommandError, match="Nothing erased"):
        call_command("graceful_cancel_erase_customer", "alice")
    assert CancellationCase.objects.filter(customer=customer).count() == 2
    out = io.StringIO()
    call_command("graceful_cancel_erase_customer", "alice", "--yes", stdout=out)
    assert "from 2 case(s)" in out.getvalue()
    assert not CancellationCase.objects.filter(customer=customer).exists()
    assert PrivacyRequest.objects.get().actor_label == "command:erase_customer"


def test_admin_export_and_erase(client, django_user_model, customer, alice_cases):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(boss)
    case = alice_cases[0]
    response = client.post(reverse("admin:graceful_cancel_export_customer", args=[case.pk]))
    assert response["Content-Type"].startswith("application/json")
    assert len(json.loads(response.content)["cases"]) == 2
    confirm = client.get(reverse("admin:graceful_cancel_erase_customer", args=[case.pk]))
    assert "cannot be undone" in confirm.content.decode()
    assert CancellationCase.objects.filter(customer=customer).count() == 2
    client.post(reverse("admin:graceful_cancel_erase_customer", args=[case.pk]), {"confirm": "yes"})
    assert not CancellationCase.objects.filter(customer=customer).exists()
    assert list(PrivacyRequest.objects.order_by("pk").values_list("kind", "requested_by")) == [
        ("export", boss.pk),
        ("erase", boss.pk),
    ]


# --- purge -------------------------------------------------------------------------------------


def _age(case: CancellationCase, days: int) -> None:
    CancellationCase.objects.filter(pk=case.pk).update(
        created_at=timezone.now() - timedelta(days=days)
    )


def test_purge_deletes_old_closed_cases_only(make_customer, catalogue):
    old_closed, _ = services.start_case(make_customer())
    services.confirm_cancellation(old_closed)
    old_open, _ = services.start_case(make_customer())
    recent, _ = services.start_case(make_customer())
    services.confirm_cancellation(recent)
    _age(old_closed, 800)
    _age(old_open, 800)
    _age(recent, 10)
    request = services.purge_cases(older_than_days=730)
    remaining = set(CancellationCase.objects.values_list("pk", flat=True))
    assert remaining == {old_open.pk, recent.pk}
    assert not CaseEvent.objects.filter(case_id=old_closed.pk).exists()
    assert (request.kind, request.cases, request.detail["older_than_days"]) == ("purge", 1, 730)


def test_purge_is_off_unless_configured(make_customer, catalogue):
    case, _ = services.start_case(make_customer())
    services.confirm_cancellation(case)
    _age(case, 5000)
    assert services.purge_cases() is None
    with pytest.raises(CommandError, match="Purging is off"):
        call_command("graceful_cancel_purge")
    assert tasks.purge_old_cases() == 0
    assert CancellationCase.objects.count() == 1
    with override_settings(GRACEFUL_CANCEL=gc_settings(PURGE_AFTER_DAYS=365)):
        out = io.StringIO()
        call_command("graceful_cancel_purge", "--dry-run", stdout=out)
        assert "Would delete 1 case(s)" in out.getvalue()
        assert CancellationCase.objects.count() == 1
        assert tasks.purge_old_cases() == 1
    assert CancellationCase.objects.count() == 0
    assert PrivacyRequest.objects.get().cases == 1


def test_purge_setting_is_validated():
    from django_graceful_cancel.checks import check_settings

    with override_settings(GRACEFUL_CANCEL=gc_settings(PURGE_AFTER_DAYS=0)):
        assert [e.id for e in check_settings()] == ["graceful_cancel.E003"]
    with override_settings(GRACEFUL_CANCEL=gc_settings(SAVE_CHECK_DAYS=[])):
        assert [e.id for e in check_settings()] == ["graceful_cancel.E003"]


# --- save checks -------------------------------------------------------------------------------


def _saved(make_customer: Any, days_ago: int) -> CancellationCase:
    case, _ = services.start_case(make_customer())
    services.record_reason(case, "price")
    services.present_offer(case)
    services.accept_offer(case)
    CancellationCase.objects.filter(pk=case.pk).update(
        saved_at=timezone.now() - timedelta(days=days_ago)
    )
    return case


def test_save_checks_ask_the_subscription_backend(make_customer, catalogue):
    kept = _saved(make_customer, 95)
    gone = _saved(make_customer, 65)
    fresh = _saved(make_customer, 5)
    Subscription.objects.filter(user=gone.customer).update(status="canceled")
    assert tasks.run_save_checks() == 5  # kept: 30, 60, 90; gone: 30, 60
    checks = {(c.case_id, c.days): c.still_active for c in SaveCheck.objects.all()}
    assert checks == {
        (kept.pk, 30): True,
        (kept.pk, 60): True,
        (kept.pk, 90): True,
        (gone.pk, 30): False,
        (gone.pk, 60): False,
    }
    assert not SaveCheck.objects.filter(case=fresh).exists()
    event = gone.events.filter(kind=EventKind.SAVE_CHECKED).last()
    assert event.data == {"days": 60, "still_active": False}
    # Idempotent: nothing is due any more.
    assert tasks.run_save_checks() == 0
    assert SaveCheck.objects.count() == 5


def test_a_save_set_to_end_at_period_end_is_not_kept(make_customer, catalogue):
    case = _saved(make_customer, 31)
    Subscription.objects.filter(user=case.customer).update(cancel_at_period_end=True)
    check = services.check_save(case, 30)
    assert check.still_active is False


def test_no_login_declarations_are_exported_and_erased(customer, staff_user, alice_cases):
    from django_graceful_cancel.models import CancellationDeclaration

    declaration = CancellationDeclaration.objects.create(
        name="Alice Example",
        email="alice@example.com",
        contract="Standard plan",
        customer=customer,
        case=alice_cases[1],
    )
    data = services.export_customer_data(customer, actor=staff_user)
    [exported] = data["cancellation_declarations"]
    assert (exported["name"], exported["email"]) == ("Alice Example", "alice@example.com")
    services.erase_customer(customer, actor=staff_user)
    declaration.refresh_from_db()
    assert (declaration.name, declaration.email, declaration.contract) == ("", "", "")
    assert declaration.customer_id is None
    assert declaration.received_at is not None  # when the cancellation was received stays


# --- erasure and the billing provider ----------------------------------------------------------


def _cancelled_while_the_provider_is_down(customer: Any) -> CancellationCase:
    from unittest import mock

    from django_graceful_cancel.backends.model import ModelSubscriptionBackend
    from django_graceful_cancel.exceptions import BackendError

    case, _ = services.start_case(customer)
    services.record_reason(case, "price", detail="My rent went up", contact_phone="+34600111222")
    with mock.patch.object(ModelSubscriptionBackend, "cancel", side_effect=BackendError("down")):
        services.confirm_cancellation(case, actor=customer)
        services.retry_provider_sync(case)  # the sync may run on commit: make sure it failed
    case.refresh_from_db()
    assert (case.status, case.provider_sync) == (CaseStatus.CANCELLED, SyncStatus.PENDING)
    return case


def test_erase_applies_a_pending_cancellation_before_erasing_the_reference(
    customer, staff_user, catalogue
):
    case = _cancelled_while_the_provider_is_down(customer)
    reference = case.subscription_ref
    services.erase_customer(customer, actor=staff_user)  # the provider is back
    case.refresh_from_db()
    assert case.provider_sync == SyncStatus.SYNCED
    assert case.subscription_ref == f"erased:{case.pk}"
    assert reference != case.subscription_ref
    assert Subscription.objects.get(user=customer).canceled_at is not None


def test_erase_keeps_the_reference_a_pending_cancellation_still_needs(
    customer, staff_user, catalogue
):
    from unittest import mock

    from django_graceful_cancel.backends.model import ModelSubscriptionBackend
    from django_graceful_cancel.exceptions import BackendError

    case = _cancelled_while_the_provider_is_down(customer)
    reference = case.subscription_ref
    with mock.patch.object(ModelSubscriptionBackend, "cancel", side_effect=BackendError("down")):
        services.erase_customer(customer, actor=staff_user)
    case.refresh_from_db()
    # Everything personal went; the provider's id of the subscription stayed for the sweep.
    assert (case.customer_id, case.reason_detail, case.contact_phone) == (None, "", "")
    assert case.subscription_ref == reference
    assert case.provider_sync == SyncStatus.PENDING
    assert case.events.filter(kind=EventKind.PROVIDER_SYNC_FAILED).count() >= 2
    # The provider comes back: the sweep applies the cancellation the customer confirmed.
    services.retry_provider_sync(case.pk)
    case.refresh_from_db()
    assert case.provider_sync == SyncStatus.SYNCED
    assert Subscription.objects.get(user=customer).canceled_at is not None


def test_purge_keeps_cases_the_provider_has_not_synced(customer, catalogue):
    case = _cancelled_while_the_provider_is_down(customer)
    _age(case, 800)
    with override_settings(GRACEFUL_CANCEL=gc_settings(PURGE_AFTER_DAYS=365)):
        out = io.StringIO()
        call_command("graceful_cancel_purge", "--dry-run", stdout=out)
        assert "Would delete 0 case(s)" in out.getvalue()
        assert services.purge_cases().cases == 0
    assert CancellationCase.objects.filter(pk=case.pk).exists()
    services.retry_provider_sync(case.pk)
    assert services.purge_cases(older_than_days=365).cases == 1


# --- erasure and the API's idempotency keys ----------------------------------------------------


def test_erase_deletes_the_customers_stored_api_responses(
    customer, make_customer, staff_user, catalogue
):
    from django.test import Client

    from django_graceful_cancel.models import IdempotencyKey

    other = make_customer("bob")
    for user in (customer, other):
        api = Client()
        api.force_login(user)
        reference = api.post("/api/cancel/cases/", "{}", content_type="application/json").json()[
            "reference"
        ]
        response = api.post(
            f"/api/cancel/cases/{reference}/reason/",
            json.dumps({"reason": "price", "detail": f"{user.username}'s secret"}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="k1",
        )
        assert response.status_code == 200
    assert "alice's secret" in json.dumps(list(IdempotencyKey.objects.values("response_body")))
    services.erase_customer(customer, actor=staff_user)
    stored = json.dumps(list(IdempotencyKey.objects.values("response_body")))
    assert "alice's secret" not in stored
    assert not IdempotencyKey.objects.filter(customer=customer).exists()
    assert "bob's secret" in stored  # other customers' keys are untouched


def test_expired_idempotency_keys_are_purged_by_the_task_and_the_command(make_customer):
    from django_graceful_cancel.models import IdempotencyKey

    def key(name: str, hours: int) -> IdempotencyKey:
        return IdempotencyKey.objects.create(
            customer=make_customer(name),
            key="k",
            fingerprint="f",
            method="POST",
            path="/",
            expires_at=timezone.now() + timedelta(hours=hours),
        )

    key("expired1", -1)
    live = key("live", 5)
    assert tasks.purge_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.all()) == [live]
    key("expired2", -1)
    out = io.StringIO()
    # Purging cases is off (PURGE_AFTER_DAYS is None) and the command says so; the keys still go.
    with pytest.raises(CommandError, match="Purging is off"):
        call_command("graceful_cancel_purge", "--dry-run", stdout=out)
    assert "Would delete 1 expired idempotency key(s)" in out.getvalue()
    assert IdempotencyKey.objects.count() == 2
    with pytest.raises(CommandError, match="Purging is off"):
        call_command("graceful_cancel_purge", stdout=out)
    assert list(IdempotencyKey.objects.all()) == [live]


def test_erase_blanks_what_the_followups_stored(customer, staff_user, alice_cases):
    FollowUp.objects.filter(case__in=alice_cases).update(
        recipient="alice@example.com", last_error="550 <alice@example.com>: no such user"
    )
    assert FollowUp.objects.filter(customer=customer).exists()
    services.erase_customer(customer, actor=staff_user)
    rows = FollowUp.objects.filter(case__in=alice_cases)
    assert rows.exists()
    assert set(rows.values_list("customer_id", "recipient", "last_error")) == {(None, "", "")}
