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
    assert case.reference in body
    assert "Ordinary termination" in body
    assert f"https://shop.test{declaration.dispute_path}" in body

    html = client.get(response["Location"]).content.decode()
    assert declaration.reference in html
    assert "Received on" in html and "Takes effect" in html
    assert f"{declaration.received_at:%Y}" in html
    assert "Standard" in html


def test_match_by_customer_name_also_tells_the_account_address(
    client, customer, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        declare(client, email="someone@elsewhere.test", contract="alice")
    declaration = CancellationDeclaration.objects.get()
    assert declaration.status == DeclarationStatus.MATCHED
    by_address = {m.to[0]: m.body for m in mail.outbox}
    assert set(by_address) == {"someone@elsewhere.test", "alice@example.com"}
    assert declaration.dispute_path in by_address["alice@example.com"]
    assert declaration.dispute_path not in by_address["someone@elsewhere.test"]
    assert declaration.reference in by_address["someone@elsewhere.test"]


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
    assert "Our team will confirm the end date" in html
    assert "Gold plan" in html


def test_extraordinary_needs_a_reason_and_ends_at_once(client, customer, catalogue):
    response = declare(client, termination="extraordinary")
    assert response.status_code == 400
    assert "Please give the reason" in response.content.decode()
    assert not CancellationDeclaration.objects.exists()
    declare(client, termination="extraordinary", extraordinary_reason="Service stopped working")
    declaration = CancellationDeclaration.objects.get()
    assert declaration.case.effective_mode == "immediately"
    assert declaration.case.reason_detail == "Service stopped working"


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
