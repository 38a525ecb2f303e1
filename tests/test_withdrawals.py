"""The statutory withdrawal function (CRD art. 11a, BGB section 356a, L221-21 / D221-5): the window,
the input rules, the withdrawal as its own outcome, the acknowledgement, the refund on the desk,
the no-login page, and the pages' statutory labels in de, fr and en."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from django_graceful_cancel import dates, services, signals
from django_graceful_cancel.backends.base import SubscriptionInfo
from django_graceful_cancel.choices import CaseStatus, EventKind, SyncStatus, WithdrawalStatus
from django_graceful_cancel.exceptions import BackendError, InvalidInput, InvalidTransition
from django_graceful_cancel.models import CancellationCase, CaseEvent, Withdrawal
from django_graceful_cancel.services import withdrawals
from tests.support import flow_settings
from tests.testapp.models import Subscription

pytestmark = pytest.mark.django_db

WITHDRAW = "/account/cancel/withdraw/"


@pytest.fixture(autouse=True)
def _de(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="de", SITE_URL="https://shop.test")


@pytest.fixture
def new_customer(make_customer: Any) -> Any:
    """A customer whose subscription started three days ago: inside the 14-day period."""
    return make_customer("nora", tenure_days=3)


def subscription_ref(user: Any) -> str:
    return f"testapp.subscription:{Subscription.objects.get(user=user).pk}"


def withdraw(user: Any, **fields: Any) -> Withdrawal:
    data = {
        "name": "Nora Example",
        "email": user.email,
        "subscription": subscription_ref(user),
        "actor": user,
    }
    data.update(fields)
    return services.withdraw(user, **data)


# --- The window --------------------------------------------------------------------------------


def test_the_period_runs_to_the_end_of_the_fourteenth_day_after_the_start():
    start = datetime(2026, 6, 3, 18, 0, tzinfo=ZoneInfo("UTC"))
    assert withdrawals.period_ends_at(start, 14) == datetime(2026, 6, 18, tzinfo=ZoneInfo("UTC"))


def test_window_open_within_the_period_and_closed_after(make_customer):
    inside = make_customer("inside", tenure_days=14)  # started 14 days ago: its last day
    outside = make_customer("outside", tenure_days=16)
    assert withdrawals.window(inside).open
    closed = withdrawals.window(outside)
    assert not closed.open
    assert closed.applies and closed.subscription is not None
    assert closed.ends_at is not None and closed.ends_at < timezone.now()


def test_withdrawal_days_per_profile_from_the_setting(settings, make_customer):
    customer = make_customer("long", tenure_days=20)
    assert not withdrawals.window(customer).open
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="de", WITHDRAWAL_DAYS={"de": 30})
    assert withdrawals.withdrawal_days("de") == 30
    assert withdrawals.withdrawal_days("fr") == 14
    assert withdrawals.window(customer).open


def test_no_window_without_a_known_start(new_customer):
    unknown = SubscriptionInfo(reference=subscription_ref(new_customer), started_at=None)
    current = withdrawals.window(new_customer, info=unknown)
    assert current.applies and not current.open


# --- Withdrawing -------------------------------------------------------------------------------


def test_withdrawal_within_the_period_ends_the_subscription_as_its_own_outcome(
    new_customer, catalogue, django_capture_on_commit_callbacks
):
    received: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        received.append(kwargs)

    signals.case_withdrawn.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            withdrawal = withdraw(new_customer, language="en", time_zone="Europe/Berlin")
    finally:
        signals.case_withdrawn.disconnect(receiver)
    withdrawal.refresh_from_db()
    case = CancellationCase.objects.get(customer=new_customer)
    assert withdrawal.status == WithdrawalStatus.WITHDRAWN
    assert withdrawal.case == case
    assert case.status == CaseStatus.WITHDRAWN  # not "cancelled"
    assert case.cancelled_at is None
    assert case.provider_sync == SyncStatus.SYNCED
    kinds = list(case.events.values_list("kind", flat=True))
    assert EventKind.WITHDRAWN in kinds and EventKind.CANCELLED not in kinds
    assert [r["withdrawal"].pk for r in received] == [withdrawal.pk]
    subscription = Subscription.objects.get(user=new_customer)
    assert subscription.status == "canceled"  # ended at once, not at the period end
    assert withdrawal.refund_amount == Decimal("12.99") and withdrawal.refund_currency == "EUR"
    assert withdrawal.refund_due_at == withdrawal.received_at + timedelta(days=14)


def test_after_the_period_it_is_refused_with_a_field_error(make_customer, catalogue):
    customer = make_customer("late", tenure_days=30)
    with pytest.raises(InvalidInput) as raised:
        withdraw(customer)
    assert raised.value.errors["subscription"][0].code == "withdrawal_period_over"
    assert not CancellationCase.objects.exists()
    assert not Withdrawal.objects.exists()


def test_not_under_the_us_profile(settings, new_customer, client, catalogue):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="us")
    assert not withdrawals.window(new_customer).open
    with pytest.raises(InvalidInput) as raised:
        withdraw(new_customer)
    assert raised.value.errors["subscription"][0].code == "no_withdrawal_function"
    client.force_login(new_customer)
    assert client.get(WITHDRAW).status_code == 404
    assert not Withdrawal.objects.exists()


def test_a_double_submit_is_one_withdrawal(new_customer, catalogue, client):
    with translation.override("en"):
        first = withdraw(new_customer)
        second = withdraw(new_customer)
    assert first.pk == second.pk
    assert Withdrawal.objects.count() == 1
    assert CaseEvent.objects.filter(kind=EventKind.WITHDRAWN).count() == 1
    client.force_login(new_customer)
    response = client.post(WITHDRAW, {"name": "Nora", "email": new_customer.email})
    assert response.status_code == 302
    assert response["Location"] == first.acknowledgement_path
    assert Withdrawal.objects.count() == 1


def test_another_customers_subscription_cannot_be_withdrawn(make_customer, catalogue):
    nora = make_customer("nora", tenure_days=2)
    bob = make_customer("bob", tenure_days=2)
    with pytest.raises(InvalidInput) as raised:
        withdraw(nora, subscription=subscription_ref(bob))
    assert raised.value.errors["subscription"][0].code == "unknown_subscription"
    assert Subscription.objects.get(user=bob).status == "active"
    assert not CancellationCase.objects.exists()


def test_no_reason_is_accepted(new_customer, catalogue, client):
    with pytest.raises(TypeError):
        withdraw(new_customer, reason="price")  # the service has no such input
    client.force_login(new_customer)
    response = client.post(
        WITHDRAW,
        {
            "name": "Nora",
            "email": new_customer.email,
            "subscription": subscription_ref(new_customer),
            "reason": "price",
            "detail": "too expensive",
        },
    )
    assert response.status_code == 302
    case = CancellationCase.objects.get(customer=new_customer)
    assert case.status == CaseStatus.WITHDRAWN
    assert case.reason is None and case.reason_detail == ""


def test_name_and_email_are_checked_together(new_customer, catalogue):
    with pytest.raises(InvalidInput) as raised:
        withdraw(new_customer, name="  ", email="not an address")
    assert set(raised.value.errors) == {"name", "email"}


def test_a_cancellation_not_yet_in_effect_becomes_a_withdrawal(
    new_customer, catalogue, django_capture_on_commit_callbacks
):
    case, _created = services.start_case(new_customer, actor=new_customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_cancellation(case, actor=new_customer)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdraw(new_customer)
    case.refresh_from_db()
    assert withdrawal.case == case
    assert case.status == CaseStatus.WITHDRAWN
    assert Subscription.objects.get(user=new_customer).status == "canceled"


def test_the_withdrawal_stays_when_the_backend_fails_and_the_sync_retries_it(
    new_customer, catalogue, monkeypatch, django_capture_on_commit_callbacks
):
    from django_graceful_cancel.backends.model import ModelSubscriptionBackend

    original = ModelSubscriptionBackend.cancel

    def down(self: Any, *args: Any, **kwargs: Any) -> None:
        raise BackendError("billing is down", transient=True)

    monkeypatch.setattr(ModelSubscriptionBackend, "cancel", down)
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdraw(new_customer)
    case = CancellationCase.objects.get(pk=withdrawal.case_id)
    assert case.status == CaseStatus.WITHDRAWN
    assert case.provider_sync == SyncStatus.PENDING
    assert case.events.filter(kind=EventKind.PROVIDER_SYNC_FAILED).exists()
    assert len(mail.outbox) == 1  # acknowledged all the same
    monkeypatch.setattr(ModelSubscriptionBackend, "cancel", original)
    # Until the sync succeeds, the cancellation flow cannot open a second case that would
    # supersede the withdrawal at the provider.
    with pytest.raises(InvalidTransition) as raised:
        services.start_case(new_customer)
    assert raised.value.code == "already_cancelled"
    services.retry_provider_sync(case)
    case.refresh_from_db()
    assert case.provider_sync == SyncStatus.SYNCED
    assert Subscription.objects.get(user=new_customer).status == "canceled"


# --- The acknowledgement -------------------------------------------------------------------------


def test_acknowledgement_email_has_the_date_and_time_of_receipt_with_its_zone(
    new_customer, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdraw(new_customer, language="en", time_zone="America/New_York")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [new_customer.email]
    assert withdrawal.reference in message.subject
    withdrawal.refresh_from_db()
    when = dates.format_datetime(withdrawal.received_at, withdrawal)
    zone = timezone.localtime(withdrawal.received_at, ZoneInfo("America/New_York")).tzname()
    assert f"Received on: {when}" in message.body
    assert when.endswith(f"({zone})") and zone in ("EST", "EDT")
    assert "Standard" in message.body
    assert "within 14 days" in message.body
    assert "offer" not in message.body.lower()
    assert Withdrawal.objects.get(pk=withdrawal.pk).acknowledged_at is not None


def test_acknowledgement_email_in_the_customers_language(
    new_customer, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        withdraw(new_customer, language="de", time_zone="Europe/Berlin")
    message = mail.outbox[0]
    assert "Widerruf" in message.subject
    assert "Eingegangen am" in message.body or "Empfangen am" in message.body
    assert re.search(r"\((CET|CEST|MEZ|MESZ)\)", message.body)


# --- The pages ---------------------------------------------------------------------------------


LABELS = {
    "de": ("Vertrag widerrufen", "Widerruf bestätigen"),
    "fr": ("renoncer au contrat ici", "confirmer la rétractation"),
    "en": ("Withdraw from contract here", "Confirm withdrawal"),
}


@pytest.mark.parametrize("language", ["de", "fr", "en"])
def test_statutory_labels_exactly(language, new_customer, client, catalogue):
    entry, confirm = LABELS[language]
    request = RequestFactory().get("/account/")
    request.user = new_customer
    with translation.override(language):
        link = Template("{% load graceful_cancel_withdrawal %}{% gc_withdrawal_link %}").render(
            Context({"request": request})
        )
    assert f">{entry}</a>" in link
    assert f'href="{WITHDRAW}"' in link
    client.force_login(new_customer)
    html = client.get(WITHDRAW, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    button = re.search(r'id="gc-confirm-withdrawal">([^<]*)</button>', html)
    assert button is not None and button.group(1) == confirm


def test_the_page_asks_only_name_contract_and_address_and_offers_nothing(
    new_customer, client, catalogue
):
    client.force_login(new_customer)
    response = client.get(WITHDRAW)
    html = response.content.decode()
    assert response.status_code == 200
    fields = set(re.findall(r'<(?:input|select|textarea)[^>]* name="([^"]+)"', html))
    assert fields == {"csrfmiddlewaretoken", "time_zone", "name", "subscription", "email"}
    assert 'value="Nora"' in html or 'value="Nora "' in html  # prefilled from the account
    assert f'value="{new_customer.email}"' in html
    assert "Standard" in html
    assert 'name="reason"' not in html
    assert "gc-offer" not in html and "offer" not in html.lower()


def test_after_the_period_the_page_says_so_and_points_to_the_cancellation(
    make_customer, client, catalogue
):
    customer = make_customer("late", tenure_days=30)
    client.force_login(customer)
    response = client.get(WITHDRAW)
    html = response.content.decode()
    assert response.status_code == 200
    assert "The withdrawal period has ended" in html
    assert f'href="{reverse("graceful_cancel:start")}"' in html
    assert 'id="gc-confirm-withdrawal"' not in html
    response = client.post(
        WITHDRAW,
        {"name": "Late", "email": customer.email, "subscription": subscription_ref(customer)},
    )
    assert response.status_code == 200 and not Withdrawal.objects.exists()
    request = RequestFactory().get("/account/")
    request.user = customer
    link = Template("{% load graceful_cancel_withdrawal %}{% gc_withdrawal_link %}").render(
        Context({"request": request})
    )
    assert link.strip() == ""


def test_posting_the_form_withdraws_and_shows_the_acknowledgement(
    new_customer, client, catalogue, django_capture_on_commit_callbacks
):
    client.force_login(new_customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            WITHDRAW,
            {
                "name": "Nora Example",
                "email": new_customer.email,
                "subscription": subscription_ref(new_customer),
                "time_zone": "Europe/Paris",
            },
        )
    withdrawal = Withdrawal.objects.get()
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert withdrawal.reference in page
    assert re.search(r"\((CET|CEST)\)", page)
    assert "We refund every payment" in page
    assert withdrawal.time_zone == "Europe/Paris"


def test_a_bad_field_is_a_form_error_not_a_500(new_customer, client, catalogue):
    client.force_login(new_customer)
    response = client.post(
        WITHDRAW, {"name": "", "email": "nope", "subscription": "testapp.subscription:999999"}
    )
    assert response.status_code == 400
    assert not Withdrawal.objects.exists()


def test_the_billing_system_down_is_a_503_page(new_customer, client, monkeypatch, catalogue):
    from django_graceful_cancel.backends.model import ModelSubscriptionBackend

    def down(self: Any, customer: Any) -> None:
        raise BackendError("down", transient=True)

    monkeypatch.setattr(ModelSubscriptionBackend, "get_active_subscription", down)
    client.force_login(new_customer)
    assert client.get(WITHDRAW).status_code == 503


def test_acknowledgement_page_needs_its_secret_token(client, new_customer, catalogue):
    withdrawal = withdraw(new_customer)
    assert client.get(withdrawal.acknowledgement_path).status_code == 200
    assert client.get(f"{WITHDRAW}not-the-token/").status_code == 404


# --- Staff: the refund ------------------------------------------------------------------------


def test_refund_done_by_staff_is_on_the_timeline_once(new_customer, staff_user, catalogue):
    withdrawal = withdraw(new_customer)
    assert withdrawal.refund_open
    done = services.mark_refund_done(withdrawal, actor=staff_user, note="Refunded by card")
    again = services.mark_refund_done(withdrawal, actor=staff_user)
    assert done.refunded_at is not None and again.refunded_at == done.refunded_at
    assert not Withdrawal.objects.get(pk=withdrawal.pk).refund_open
    events = CaseEvent.objects.filter(kind=EventKind.REFUND_DONE)
    assert events.count() == 1
    assert events.get().data["amount"] == "12.99"


def test_the_desk_lists_the_refund_obligation(new_customer, superuser_client, catalogue):
    withdrawal = withdraw(new_customer)
    url = reverse("admin:graceful_cancel_withdrawal_changelist")
    html = superuser_client.get(url).content.decode()
    assert withdrawal.reference in html
    assert "12.99" in html
    change = reverse("admin:graceful_cancel_withdrawal_change", args=[withdrawal.pk])
    response = superuser_client.post(change, {"refund_done": "on", "refund_note": "done"})
    assert response.status_code == 302
    assert Withdrawal.objects.get(pk=withdrawal.pk).refunded_at is not None
    case_page = reverse("admin:graceful_cancel_cancellationcase_change", args=[withdrawal.case_id])
    assert "12.99" in superuser_client.get(case_page).content.decode()


# --- The no-login page (eu/de: withdrawal_login_required False) --------------------------------


def post_public(client: Any, **fields: Any) -> Any:
    data = {"name": "Nora Example", "email": "nora@example.com", "contract": "Standard"}
    data.update(fields)
    return client.post(WITHDRAW, data, REMOTE_ADDR=fields.pop("ip", "203.0.113.9"))


def test_no_login_withdrawal_waits_for_the_account_holder_then_takes_effect(
    client, new_customer, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_public(client)
    withdrawal = Withdrawal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == withdrawal.acknowledgement_path
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PENDING
    assert withdrawal.customer == new_customer
    assert not CancellationCase.objects.exists()  # nothing ends before the holder confirms
    message = mail.outbox[0]
    assert message.to == ["nora@example.com"]
    link = re.search(r"https://shop\.test(/account/cancel/withdraw/confirm/[^\s]+/)", message.body)
    assert link is not None
    confirm_page = client.get(link.group(1))
    assert confirm_page.status_code == 200
    assert 'id="gc-confirm-withdrawal"' in confirm_page.content.decode()
    assert Withdrawal.objects.get().status == WithdrawalStatus.PENDING  # a GET changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link.group(1))
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.WITHDRAWN
    assert withdrawal.case is not None and withdrawal.case.status == CaseStatus.WITHDRAWN
    assert Subscription.objects.get(user=new_customer).status == "canceled"
    # A second email tells the account holder the contract has ended.
    assert len(mail.outbox) == 2
    assert "Your subscription has ended" in mail.outbox[1].body
    assert withdrawal.reference in mail.outbox[1].subject


def test_no_login_answer_is_the_same_whoever_it_names(
    client, new_customer, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = post_public(client)
        unknown = post_public(client, email="stranger@example.com", ip="203.0.113.10")
    known_page = client.get(known["Location"]).content.decode()
    unknown_page = client.get(unknown["Location"]).content.decode()

    def strip(html: str) -> str:
        html = re.sub(r"GC-[0-9A-Z-]+", "REF", html)
        html = re.sub(r"<dd[^>]*>[^<]*</dd>", "", html)
        return re.sub(r"[\w.+-]+@example\.com", "EMAIL", html)

    assert strip(known_page) == strip(unknown_page)
    stranger = Withdrawal.objects.get(email="stranger@example.com")
    assert stranger.status == WithdrawalStatus.RECORDED
    to_stranger = next(m for m in mail.outbox if m.to == ["stranger@example.com"])
    assert "Standard" not in to_stranger.body and "/confirm/" not in to_stranger.body


def test_no_login_withdrawal_after_the_period_is_recorded_for_staff(
    client, make_customer, catalogue, django_capture_on_commit_callbacks
):
    make_customer("old", tenure_days=40)
    with django_capture_on_commit_callbacks(execute=True):
        post_public(client, email="old@example.com")
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.status == WithdrawalStatus.RECORDED
    assert "period ended" in withdrawal.staff_note
    assert Subscription.objects.get(user=withdrawal.customer).status == "active"


def test_no_login_page_is_rate_limited(client, settings, catalogue):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="de", DECLARATION_RATE_LIMIT=2)
    assert post_public(client).status_code == 302
    assert post_public(client).status_code == 302
    assert post_public(client).status_code == 429


def test_no_login_page_needs_a_login_where_the_profile_says_so(client, settings, catalogue):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="fr")
    response = client.get(WITHDRAW)
    assert response.status_code == 302 and "login" in response["Location"]


# --- The REST API -----------------------------------------------------------------------------

API = "/api/cancel/withdrawal/"


def test_api_says_whether_and_until_when_with_the_labels(new_customer, client, catalogue):
    client.force_login(new_customer)
    body = client.get(API, HTTP_ACCEPT_LANGUAGE="de").json()
    assert body["available"] is True
    assert body["subscription"] == subscription_ref(new_customer)
    assert body["entry_label"] == "Vertrag widerrufen"
    assert body["confirm_label"] == "Widerruf bestätigen"
    assert body["ends_at_text"].endswith("(UTC)")


def test_api_withdraws_once_and_refuses_a_reason(
    new_customer, client, catalogue, django_capture_on_commit_callbacks
):
    client.force_login(new_customer)
    payload = {
        "name": "Nora",
        "email": new_customer.email,
        "subscription": subscription_ref(new_customer),
    }
    refused = client.post(API, {**payload, "reason": "price"}, content_type="application/json")
    assert refused.status_code == 400 and "reason" in refused.json()
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(API, payload, content_type="application/json")
    assert first.status_code == 201
    assert first.json()["status"] == "withdrawn"
    again = client.post(API, payload, content_type="application/json")
    assert again.status_code == 200
    assert again.json()["reference"] == first.json()["reference"]
    assert client.get(API).json()["available"] is False


def test_api_fills_what_is_left_out_from_the_account(new_customer, client, catalogue):
    client.force_login(new_customer)
    response = client.post(API, {}, content_type="application/json")
    assert response.status_code == 201
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.email == new_customer.email
    assert withdrawal.name == new_customer.get_full_name()
    assert withdrawal.subscription_ref == subscription_ref(new_customer)


def test_api_after_the_period_is_a_409_with_the_rules_code(make_customer, client, catalogue):
    customer = make_customer("late", tenure_days=30)
    client.force_login(customer)
    assert client.get(API).json()["available"] is False
    response = client.post(
        API,
        {"name": "Late", "email": customer.email, "subscription": subscription_ref(customer)},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "withdrawal_period_over"


def test_api_needs_a_customer(client, catalogue):
    assert client.get(API).status_code in (401, 403)


def test_a_no_login_withdrawal_left_received_is_processed_by_the_sweep(
    new_customer, django_capture_on_commit_callbacks
):
    from django_graceful_cancel.tasks import process_withdrawals

    withdrawal = services.receive_withdrawal(
        name="Nora", email=new_customer.email, contract="Standard", client="203.0.113.20"
    )
    Withdrawal.objects.filter(pk=withdrawal.pk).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert process_withdrawals() == 1
        assert process_withdrawals() == 0
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PENDING
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(("profile", "shown"), [("de", True), ("fr", False), ("us", False)])
def test_visitors_get_the_no_login_link_where_the_profile_has_the_page(
    settings, profile, shown, catalogue
):
    from django.contrib.auth.models import AnonymousUser

    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE=profile)
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    html = Template("{% load graceful_cancel_withdrawal %}{% gc_withdrawal_link %}").render(
        Context({"request": request})
    )
    assert (f'href="{WITHDRAW}"' in html) is shown


def test_export_and_erasure_cover_withdrawals(new_customer, staff_user, catalogue):
    withdrawal = withdraw(new_customer)
    exported = services.export_customer_data(new_customer, actor=staff_user)
    assert [w["reference"] for w in exported["withdrawals"]] == [withdrawal.reference]
    services.erase_customer(new_customer, actor=staff_user)
    withdrawal.refresh_from_db()
    assert (withdrawal.name, withdrawal.email, withdrawal.customer_id) == ("", "", None)
    assert withdrawal.refund_amount == Decimal("12.99")  # the refund owed stays on the desk


def test_a_tampered_confirmation_link_changes_nothing(
    client, new_customer, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_public(client)
    withdrawal = Withdrawal.objects.get()
    token = withdrawals.confirmation_token(withdrawal)
    response = client.post(f"{WITHDRAW}confirm/{token[:-2]}xx/")
    assert response.status_code == 400
    # A declaration's link (another salt) is no withdrawal's link either.
    from django.core import signing

    other = signing.dumps({"w": withdrawal.pk}, salt="django_graceful_cancel.declarations.confirm")
    assert client.post(f"{WITHDRAW}confirm/{other}/").status_code == 400
    assert Withdrawal.objects.get().status == WithdrawalStatus.PENDING
    assert not CancellationCase.objects.exists()


def test_staff_apply_a_waiting_no_login_withdrawal(
    superuser_client, new_customer, catalogue, django_capture_on_commit_callbacks
):
    from django.test import Client

    with django_capture_on_commit_callbacks(execute=True):
        post_public(Client())  # a visitor, not the signed-in staff member
    withdrawal = Withdrawal.objects.get()
    url = reverse("admin:graceful_cancel_withdrawal_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        superuser_client.post(
            url, {"action": "apply_withdrawals", "_selected_action": [withdrawal.pk]}
        )
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.WITHDRAWN
    event = withdrawal.case.events.get(kind=EventKind.WITHDRAWN)
    assert event.actor_label == "staff:boss"


@pytest.mark.parametrize("value", [{"de": 0}, {"de": "14"}, [14], {"de": -1}])
def test_a_bad_withdrawal_days_setting_fails_the_checks(settings, value):
    from django_graceful_cancel.checks import check_settings

    settings.GRACEFUL_CANCEL = flow_settings(WITHDRAWAL_DAYS=value)
    found = [m for m in check_settings() if "WITHDRAWAL_DAYS" in m.msg]
    assert [m.id for m in found] == ["graceful_cancel.E003"]


def test_a_subscription_ending_meanwhile_is_a_page_not_a_500(
    new_customer, client, catalogue, monkeypatch
):
    from django_graceful_cancel.exceptions import NoActiveSubscription

    def gone(*args: Any, **kwargs: Any) -> None:
        raise NoActiveSubscription()

    monkeypatch.setattr(services.cases, "start_case", gone)
    client.force_login(new_customer)
    response = client.post(
        WITHDRAW,
        {
            "name": "Nora",
            "email": new_customer.email,
            "subscription": subscription_ref(new_customer),
        },
    )
    assert response.status_code == 200
    assert "You have no contract you can withdraw from" in response.content.decode()
    assert not Withdrawal.objects.exists()
