"""The example site itself: its migrations, its demo data command and its account page."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from django_graceful_cancel import services
from django_graceful_cancel.choices import CaseStatus
from django_graceful_cancel.models import CancellationCase

pytestmark = pytest.mark.django_db


def test_the_shops_migrations_are_in_step_with_its_models():
    out = io.StringIO()
    try:
        call_command("makemigrations", "shop", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(f"Missing migrations (exit {exit_.code}):\n{out.getvalue()}")


def test_demo_data_command_is_idempotent():
    call_command("load_demo_data", "--cases", "60", stdout=io.StringIO())
    assert CancellationCase.objects.filter(subscription_ref__startswith="history:").count() == 60
    call_command("load_demo_data", "--cases", "60", stdout=io.StringIO())
    assert CancellationCase.objects.count() == 60
    statuses = set(CancellationCase.objects.values_list("status", flat=True))
    assert {CaseStatus.SAVED, CaseStatus.CANCELLED} <= statuses
    # History never collides with a live customer's open case.
    assert not CancellationCase.objects.filter(status=CaseStatus.OPEN).exists()


@pytest.mark.usefixtures("inline_confirmations")
def test_account_page_links_to_the_receipt_of_a_cancelled_case(client, alice):
    client.force_login(alice)
    case, _ = services.start_case(alice)
    services.record_reason(case, "price")
    services.present_offer(case)
    services.confirm_cancellation(case)
    html = client.get(reverse("shop:account")).content.decode()
    assert reverse("graceful_cancel:done", args=[case.reference]) in html


def test_the_demo_customers_get_the_law_of_their_place(client, django_user_model):
    """greta is billed in Germany within her withdrawal period, jeanne in France, mia in
    Minnesota (load_demo_data): each gets her own law's flow, and alice the default one."""
    call_command("load_demo_data", "--cases", "0", stdout=io.StringIO())
    profiles = {}
    for username in ("alice", "greta", "jeanne", "mia"):
        user = django_user_model.objects.get(username=username)
        client.force_login(user)
        account = client.get(reverse("shop:account"), HTTP_ACCEPT_LANGUAGE="de")
        if username == "greta":
            html = account.content.decode()
            assert "Verträge hier kündigen" in html
            assert "Vertrag widerrufen" in html
        client.post(reverse("graceful_cancel:start"), {"action": "continue"})
        case = CancellationCase.objects.get(customer=user)
        profiles[username] = (case.jurisdiction, case.compliance_profile)
    assert profiles == {
        "alice": ("", "us"),
        "greta": ("DE", "de"),
        "jeanne": ("FR", "fr"),
        "mia": ("US-MN", "us-mn"),
    }
