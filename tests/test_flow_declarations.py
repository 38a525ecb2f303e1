"""The eu profile's no-login declaration: match, cancel, acknowledge, rate-limit, dispute."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import CaseStatus, DeclarationStatus, EventKind
from django_graceful_cancel.models import CancellationCase, CancellationDeclaration
from tests.support import flow_settings

pytestmark = pytest.mark.django_db

DECLARE = "/account/cancel/declare/"


@pytest.fixture(autouse=True)
def _eu(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="eu", SITE_URL="https://shop.test")


def declare(client: Any, **fields: Any) -> Any:
    data = {"name": "Alice Example", "email": "alice@example.com", "termination": "ordinary"}
    data.update(fields)
    return client.post(DECLARE, data, REMOTE_ADDR=fields.pop("ip", "203.0.113.7"))


def test_the_page_needs_no_login_and_asks_only_identification(client, catalogue):
    assert reverse("graceful_cancel:declare") == DECLARE
    response = client.get(DECLARE)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Cancel contracts here" in html
    for name in ["name", "email", "contract", "termination", "extraordinary_reason"]:
        assert f'name="{name}"' in html
    assert 'name="requested_end_date"' in html
    assert 'name="reason"' not in html  # no survey
    assert 'id="gc-declare"' in html


def test_the_page_is_a_404_under_other_profiles(client, settings, catalogue):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="default")
    assert client.get(DECLARE).status_code == 404


def test_matched_declaration_cancels_and_acknowledges(
    client, customer, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = declare(client, email="ALICE@example.com", contract="Standard")
    declaration = CancellationDeclaration.objects.get()
    case = declaration.case
    assert response.status_code == 302
    assert response["Location"] == declaration.acknowledgement_path
    assert declaration.status == DeclarationStatus.MATCHED
    assert declaration.customer == customer
    assert case.status == CaseStatus.CANCELLED
    assert case.compliance_profile == "eu"
    assert case.effective_mode == "period_end"
    assert case.events.filter(kind=EventKind.CANCELLED, actor_label="declaration").exists()
    # One message to the one address: the confirmation, with the declaration and "not me".
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    body = mail.outbox[0].body
    # One reference: the acknowledgement's, on screen, in the subject and in the body.
    assert case.reference == declaration.reference
    assert declaration.reference in body and declaration.reference in mail.outbox[0].subject
    assert "Ordinary termination" in body
    assert f"https://shop.test{declaration.dispute_path}" in body

    html = client.get(response["Location"]).content.decode()
    assert declaration.reference in html
    assert "Received on" in html
    assert f"{declaration.received_at:%Y}" in html
    assert "Standard" in html  # what the sender typed
    # What the account holds goes only to the account's own address, never on screen.
    assert "Takes effect" not in html and "What was cancelled" not in html


def test_a_customer_name_with_another_email_goes_to_staff(
    client, customer, catalogue, django_capture_on_commit_callbacks
):
    """Anyone can type a username: it never cancels by itself (issue 14)."""
    with django_capture_on_commit_callbacks(execute=True):
        declare(client, email="someone@elsewhere.test", contract="alice")
    declaration = CancellationDeclaration.objects.get()
    assert declaration.status == DeclarationStatus.RECORDED
    assert declaration.customer is None and declaration.case is None
    assert "'alice'" in declaration.staff_note
    assert not CancellationCase.objects.exists()
    # Only the address given hears about it, with nothing about the account.
    assert [m.to for m in mail.outbox] == [["someone@elsewhere.test"]]
    assert declaration.reference in mail.outbox[0].body
    assert declaration.dispute_path not in mail.outbox[0].body


def test_unmatched_declaration_is_recorded_for_staff_and_acknowledged(
    client, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = declare(client, email="nobody@example.com", contract="Gold plan")
    declaration = CancellationDeclaration.objects.get()
    assert declaration.status == DeclarationStatus.RECORDED
    assert declaration.case is None
    assert "no account" in declaration.staff_note
    assert [m.to for m in mail.outbox] == [["nobody@example.com"]]
    assert "Our team will confirm the end date" in mail.outbox[0].body
    html = client.get(response["Location"]).content.decode()
    # The page says the same, matched or not (tests/reliability/test_security.py compares).
    assert "We will tell you by email when your contract ends" in html
    assert "Gold plan" in html


def test_extraordinary_needs_a_reason_and_ends_at_once_when_the_holder_confirms(
    client, customer, catalogue, django_capture_on_commit_callbacks
):
    response = declare(client, termination="extraordinary")
    assert response.status_code == 400
    assert "Please give the reason" in response.content.decode()
    assert not CancellationDeclaration.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        declare(client, termination="extraordinary", extraordinary_reason="Service stopped working")
    declaration = CancellationDeclaration.objects.get()
    assert declaration.status == DeclarationStatus.PENDING
    assert declaration.case is None  # recorded and acknowledged, not yet effective
    # The account's own address gets the confirmation link; the holder follows it.
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    link = next(line for line in message.body.splitlines() if "/declare/confirm/" in line)
    path = link.removeprefix("https://shop.test")
    page = client.get(path)
    assert page.status_code == 200 and 'id="gc-confirm-declaration"' in page.content.decode()
    assert CancellationDeclaration.objects.get().status == DeclarationStatus.PENDING  # GET: no
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(path).status_code == 200
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.MATCHED
    assert declaration.confirmed_at is not None
    assert declaration.case.effective_mode == "immediately"
    assert declaration.case.reason_detail == "Service stopped working"
    assert declaration.case.events.filter(
        kind=EventKind.CANCELLED, actor_label="account holder"
    ).exists()


def test_a_later_end_date_than_the_backend_can_do_goes_to_staff(client, customer, catalogue):
    later = timezone.localdate() + timedelta(days=90)
    declare(client, requested_end_date=later.isoformat())
    declaration = CancellationDeclaration.objects.get()
    assert declaration.status == DeclarationStatus.RECORDED
    assert declaration.case.status == CaseStatus.OPEN  # kept for staff to settle
    assert "requested end date" in declaration.staff_note


def test_past_end_date_and_bad_email_are_form_errors(client, catalogue):
    response = declare(client, email="not-an-email", requested_end_date="2000-01-01")
    assert response.status_code == 400
    html = response.content.decode()
    assert "cannot be in the past" in html
    assert not CancellationDeclaration.objects.exists()


def test_already_cancelled_subscription_is_recorded(client, customer, catalogue):
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case)
    declare(client)
    declaration = CancellationDeclaration.objects.get()
    assert declaration.status == DeclarationStatus.RECORDED
    assert "already set to end" in declaration.staff_note
    assert CancellationCase.objects.filter(status=CaseStatus.CANCELLED).count() == 1


def test_rate_limited_per_address_and_per_email(client, settings, catalogue):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="eu", DECLARATION_RATE_LIMIT=2)
    for n in range(2):
        assert declare(client, email=f"x{n}@example.com").status_code == 302
    response = declare(client, email="x9@example.com")
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    # Another address is not affected; the same email from it is.
    assert declare(client, email="y@example.com", ip="198.51.100.1").status_code == 302
    assert declare(client, email="y@example.com", ip="198.51.100.2").status_code == 302
    assert declare(client, email="y@example.com", ip="198.51.100.3").status_code == 429
    assert CancellationDeclaration.objects.count() == 4
    # Addresses are never stored, only a keyed hash.
    assert not CancellationDeclaration.objects.filter(client_hash__contains="203.0").exists()


def test_not_me_reopens_for_staff_and_undoes_the_cancellation(client, customer, catalogue):
    declare(client)
    declaration = CancellationDeclaration.objects.get()
    path = declaration.dispute_path
    page = client.get(path)
    assert 'id="gc-not-me"' in page.content.decode()
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.MATCHED  # the GET changed nothing
    response = client.post(path)
    assert response.status_code == 200
    assert "Our team will look into this" in response.content.decode()
    declaration.refresh_from_db()
    case = declaration.case
    case.refresh_from_db()
    assert declaration.status == DeclarationStatus.DISPUTED
    assert declaration.disputed_at is not None
    assert case.status == CaseStatus.REACTIVATED
    assert case.events.filter(kind=EventKind.DISPUTED).count() == 1
    client.post(path)  # a second click changes nothing
    assert case.events.filter(kind=EventKind.DISPUTED).count() == 1


def test_bad_tokens_are_404(client, customer, catalogue):
    declare(client)
    declaration = CancellationDeclaration.objects.get()
    assert client.get(f"{DECLARE}{declaration.dispute_token}/").status_code == 404
    assert client.get(f"{DECLARE}not-me/{declaration.access_token}/").status_code == 404
    assert client.post(f"{DECLARE}not-me/nope/").status_code == 404


def test_the_site_footer_links_to_the_page_only_under_eu(client, settings, catalogue):
    assert f'href="{DECLARE}"' in client.get("/").content.decode()
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="default")
    assert f'href="{DECLARE}"' not in client.get("/").content.decode()


def test_staff_read_declarations_in_the_admin(client, admin_user, catalogue):
    declare(client, email="nobody@example.com")
    declaration = CancellationDeclaration.objects.get()
    client.force_login(admin_user)
    listing = client.get("/admin/graceful_cancel/cancellationdeclaration/?status=recorded")
    assert listing.status_code == 200
    assert declaration.reference in listing.content.decode()
    detail = client.get(
        f"/admin/graceful_cancel/cancellationdeclaration/{declaration.pk}/change/"
    ).content.decode()
    assert "nobody@example.com" in detail
    assert declaration.dispute_token not in detail  # secret links stay secret


def test_a_billing_outage_while_the_holder_confirms_changes_nothing(
    client, customer, catalogue, monkeypatch, django_capture_on_commit_callbacks
):
    from django_graceful_cancel.backends.model import ModelSubscriptionBackend
    from django_graceful_cancel.exceptions import BackendError
    from django_graceful_cancel.services.declarations import confirmation_token

    with django_capture_on_commit_callbacks(execute=True):
        declare(client, termination="extraordinary", extraordinary_reason="Broken")
    declaration = CancellationDeclaration.objects.get()

    def down(self: Any, user: Any) -> Any:
        raise BackendError("billing is down")

    monkeypatch.setattr(ModelSubscriptionBackend, "get_active_subscription", down)
    path = reverse("graceful_cancel:declaration_confirm", args=[confirmation_token(declaration)])
    response = client.post(path)
    assert response.status_code == 503
    assert "Please try again in a few minutes" in response.content.decode()
    assert CancellationDeclaration.objects.get().status == DeclarationStatus.PENDING
    assert not CancellationCase.objects.exists()


def test_a_declaration_left_unprocessed_is_picked_up_by_the_sweep(
    client, customer, catalogue, monkeypatch, django_capture_on_commit_callbacks
):
    """The page answers before it looks anything up; if that later work fails (billing down),
    the declaration waits as received and the task processes it."""
    import time_machine

    from django_graceful_cancel.backends.model import ModelSubscriptionBackend
    from django_graceful_cancel.exceptions import BackendError
    from django_graceful_cancel.tasks import process_declarations

    original = ModelSubscriptionBackend.get_active_subscription

    def down(self: Any, user: Any) -> Any:
        raise BackendError("billing is down")

    monkeypatch.setattr(ModelSubscriptionBackend, "get_active_subscription", down)
    with django_capture_on_commit_callbacks(execute=True):
        response = declare(client)
    assert response.status_code == 302  # the sender has their acknowledgement
    assert CancellationDeclaration.objects.get().status == DeclarationStatus.RECEIVED
    assert mail.outbox == []
    monkeypatch.setattr(ModelSubscriptionBackend, "get_active_subscription", original)
    assert process_declarations() == 0  # too fresh: the page may still be at it
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=5)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert process_declarations() == 1
        assert process_declarations() == 0  # once only
    declaration = CancellationDeclaration.objects.get()
    assert declaration.status == DeclarationStatus.MATCHED
    assert declaration.case.status == CaseStatus.CANCELLED
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
