"""The customer's pages (issue 3): every step, every bad input, never a 500, never twice."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import CaseStatus, EventKind, OfferOutcome
from django_graceful_cancel.followups.links import links_for
from django_graceful_cancel.models import CancellationCase, OfferPresentation
from django_graceful_cancel.rendering import render_message
from tests.support import flow_settings
from tests.testapp.models import Subscription

CONFIRMATION_TEMPLATES = (
    Path(__file__).resolve().parent.parent
    / "django_graceful_cancel/templates/django_graceful_cancel/messages/confirmation"
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _inline_confirmations(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = flow_settings()


@pytest.fixture
def logged_in(client: Any, customer: Any, catalogue: Any) -> Any:
    client.force_login(customer)
    return client


def url(name: str, case: CancellationCase | None = None) -> str:
    return reverse(f"graceful_cancel:{name}", args=[case.reference] if case else [])


def only_case(customer: Any) -> CancellationCase:
    return CancellationCase.objects.get(customer=customer)


def kinds(case: CancellationCase) -> list[str]:
    return list(case.events.order_by("pk").values_list("kind", flat=True))


def open_case_with_offer(customer: Any, reason: str = "price") -> CancellationCase:
    case, _ = services.start_case(customer)
    services.record_reason(case, reason)
    services.present_offer(case)
    return case


# --- start -------------------------------------------------------------------------------------


def test_pages_need_a_login(client, customer, catalogue):
    response = client.get(url("start"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_start_page_lists_reasons_with_nothing_chosen_and_changes_nothing(logged_in, customer):
    response = logged_in.get(url("start"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="reason" value="price"' in html
    assert "It costs too much for what I get" in html
    assert not re.search(r'<input[^>]*name="reason"[^>]*checked', html)  # nothing chosen
    assert 'id="gc-cancel-now"' in html and "Cancel my subscription" in html
    assert "Standard" in html  # what is being cancelled
    assert not CancellationCase.objects.exists()  # a GET never opens a case


def test_consent_is_never_pre_ticked(logged_in):
    html = logged_in.get(url("start")).content.decode()
    consent = html.split('name="contact_consent"')[0].rsplit("<input", 1)[1]
    consent += html.split('name="contact_consent"')[1].split(">", 1)[0]
    assert "checked" not in consent


def test_cancel_without_a_reason_in_one_post(
    logged_in, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(url("start"), {"action": "cancel"})
    case = only_case(customer)
    assert response.status_code == 302
    assert response["Location"] == url("done", case)
    assert case.status == CaseStatus.CANCELLED
    assert case.reason is None
    assert case.compliance_profile == "us"  # called "default" before 0.2
    assert case.language == "en"
    assert EventKind.REASON_RECORDED not in kinds(case)
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert case.reference in mail.outbox[0].body


def test_cancel_button_keeps_valid_answers_and_ignores_bad_ones(logged_in, customer):
    response = logged_in.post(
        url("start"),
        {
            "action": "cancel",
            "reason": "not-a-reason",
            "detail": "Too many ads",
            "preferred_channel": "sms",
            "contact_consent": "on",
        },
    )
    case = only_case(customer)
    assert response.status_code == 302
    assert case.status == CaseStatus.CANCELLED
    assert case.reason is None
    assert case.reason_detail == "Too many ads"
    # SMS without a phone number falls back to email rather than blocking the cancellation.
    assert case.preferred_channel == "email"


def test_unknown_reason_on_continue_is_a_clear_form_error(logged_in):
    response = logged_in.post(url("start"), {"action": "continue", "reason": "free-beer"})
    assert response.status_code == 400
    assert "Please choose one of the reasons listed" in response.content.decode()
    assert not CancellationCase.objects.exists()


def test_sms_without_phone_on_continue_asks_for_it(logged_in):
    response = logged_in.post(
        url("start"),
        {"action": "continue", "preferred_channel": "sms", "contact_consent": "on"},
    )
    assert response.status_code == 400
    assert "Please give a phone number" in response.content.decode()


def test_continue_records_reason_channel_and_consent(logged_in, customer):
    response = logged_in.post(
        url("start"),
        {
            "action": "continue",
            "reason": "price",
            "detail": "Half would be fair",
            "preferred_channel": "whatsapp",
            "contact_consent": "on",
            "contact_phone": "+34600000000",
        },
    )
    case = only_case(customer)
    assert response["Location"] == url("offer", case)
    assert case.status == CaseStatus.OPEN
    assert (case.reason.slug, case.reason_detail) == ("price", "Half would be fair")
    assert (case.preferred_channel, case.contact_consent, case.contact_phone) == (
        "whatsapp",
        True,
        "+34600000000",
    )
    assert case.offer_presentation.offer.slug == "discount-30-3m"


def test_nothing_to_cancel(client, make_customer, catalogue):
    client.force_login(make_customer("nosub", subscribed=False))
    response = client.get(url("start"))
    assert response.status_code == 200
    assert "You have no active subscription to cancel." in response.content.decode()
    response = client.post(url("start"), {"action": "cancel"})
    assert response.status_code == 200
    assert not CancellationCase.objects.exists()


# --- step 2: message and offer -----------------------------------------------------------------


def test_offer_page_shows_the_reason_message_and_two_equal_buttons(logged_in, customer):
    case = open_case_with_offer(customer)
    html = logged_in.get(url("offer", case)).content.decode()
    assert "Price matters" in html  # messages/flow_message/price_page.html
    assert "Alice" in html
    assert "You have been with us for a year" in html  # tenure
    assert "your Standard plan stays active until" in html  # plan and effective date
    assert "30% off for the next 3 months" in html
    accept = html.split('id="gc-accept"')[0].rsplit("<button", 1)[1]
    decline = html.split('id="gc-decline"')[0].rsplit("<button", 1)[1]
    assert accept == decline  # same element, same classes: equally visible
    assert "No thanks, cancel my subscription" in html


def test_offer_page_without_offer_has_the_cancel_button(logged_in, customer):
    case, _ = services.start_case(customer)
    services.record_reason(case, "business-closed")
    html = logged_in.get(url("offer", case)).content.decode()
    assert "wish you all the best" in html
    assert 'id="gc-confirm"' in html
    assert 'id="gc-accept"' not in html


def test_generic_message_without_reason(logged_in, customer):
    response = logged_in.post(url("start"), {"action": "continue"})
    case = only_case(customer)
    html = logged_in.get(response["Location"]).content.decode()
    assert "Whatever your reason" in html
    assert not OfferPresentation.objects.filter(case=case).exists()


def test_accept_saves_and_the_saved_page_says_what_happens(logged_in, customer):
    case = open_case_with_offer(customer)
    response = logged_in.post(url("accept", case))
    assert response["Location"] == url("saved", case)
    case.refresh_from_db()
    assert case.status == CaseStatus.SAVED
    html = logged_in.get(url("saved", case)).content.decode()
    assert "You pay 30% less for the next 3 months" in html


def test_pause_saved_page_gives_the_date(logged_in, customer):
    case = open_case_with_offer(customer, "temporary")
    logged_in.post(url("accept", case))
    html = logged_in.get(url("saved", case)).content.decode()
    paused_until = Subscription.objects.get(user=customer).paused_until
    assert "paused until" in html
    assert f"{paused_until:%Y}" in html


def test_decline_and_cancel(logged_in, customer, django_capture_on_commit_callbacks):
    case = open_case_with_offer(customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(url("confirm", case))
    assert response["Location"] == url("done", case)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert case.offer_presentation.outcome == OfferOutcome.DECLINED
    assert len(mail.outbox) == 1
    # The price-specific confirmation (messages/confirmation/price_message.txt).
    assert "Price matters" in mail.outbox[0].body


@override_settings(
    GRACEFUL_CANCEL=flow_settings(SUBSCRIPTION_BACKEND="tests.support.backends.FailingBackend")
)
def test_backend_failure_on_accept_is_a_clear_page_and_changes_nothing(logged_in, customer):
    case = open_case_with_offer(customer)
    response = logged_in.post(url("accept", case))
    assert response.status_code == 503
    html = response.content.decode()
    assert "could not apply the offer" in html
    assert 'id="gc-decline"' in html  # the way out is still there
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


# --- bad input ---------------------------------------------------------------------------------

CASE_PAGES = ["offer", "accept", "confirm", "done", "receipt", "saved", "reactivate"]


@pytest.mark.parametrize("page", CASE_PAGES)
def test_tampered_reference_is_a_404(logged_in, customer, page):
    case = open_case_with_offer(customer)
    bad = CancellationCase(
        reference=case.reference[:-1] + ("X" if case.reference[-1] != "X" else "Y")
    )
    assert logged_in.get(url(page, bad)).status_code == 404
    assert logged_in.post(url(page, bad)).status_code == 404


@pytest.mark.parametrize("page", CASE_PAGES)
def test_someone_elses_case_is_a_404(client, make_customer, catalogue, page):
    owner = make_customer("owner")
    case = open_case_with_offer(owner)
    client.force_login(make_customer("intruder"))
    assert client.get(url(page, case)).status_code == 404
    assert client.post(url(page, case)).status_code == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


@pytest.mark.parametrize("page", ["accept", "confirm"])
def test_get_on_a_post_step_changes_nothing_and_redirects(logged_in, customer, page):
    case = open_case_with_offer(customer)
    response = logged_in.get(url(page, case))
    assert response.status_code == 302
    assert response["Location"] == url("offer", case)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_double_confirm_cancels_once(logged_in, customer, django_capture_on_commit_callbacks):
    case = open_case_with_offer(customer)
    with django_capture_on_commit_callbacks(execute=True):
        first = logged_in.post(url("confirm", case))
        second = logged_in.post(url("confirm", case))
    assert first["Location"] == second["Location"] == url("done", case)
    assert kinds(case).count(EventKind.CANCELLED) == 1
    assert len(mail.outbox) == 1


def test_double_submit_of_the_start_cancel_button_cancels_once(logged_in, customer):
    first = logged_in.post(url("start"), {"action": "cancel"})
    second = logged_in.post(url("start"), {"action": "cancel"})
    case = only_case(customer)  # exactly one case
    assert first["Location"] == second["Location"] == url("done", case)
    assert kinds(case).count(EventKind.CANCELLED) == 1


def test_already_cancelled_case_pages_show_the_confirmation(logged_in, customer):
    case = open_case_with_offer(customer)
    services.confirm_cancellation(case)
    assert logged_in.get(url("offer", case))["Location"] == url("done", case)
    assert logged_in.post(url("accept", case))["Location"] == url("done", case)
    assert logged_in.get(url("saved", case))["Location"] == url("done", case)
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert logged_in.get(url("start"))["Location"] == url("done", case)


def test_accept_after_the_offer_was_declined_changes_nothing(logged_in, customer):
    case = open_case_with_offer(customer)
    services.decline_offer(case)
    response = logged_in.post(url("accept", case))
    assert response["Location"] == url("offer", case)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.offer_presentation.outcome == OfferOutcome.DECLINED


def test_abandoned_case_sends_back_to_the_start(logged_in, customer):
    case = open_case_with_offer(customer)
    services.abandon(case)
    assert logged_in.get(url("offer", case))["Location"] == url("start")
    assert logged_in.post(url("confirm", case))["Location"] == url("start")


# --- confirmation, receipt, reactivation -------------------------------------------------------


def test_confirmation_page_states_reference_plan_dates_and_data(logged_in, customer):
    case = open_case_with_offer(customer)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    html = logged_in.get(url("done", case)).content.decode()
    for text in [
        case.reference,
        "Standard",
        "Request received",
        "Takes effect",
        "What happens to your data",
        'id="gc-reactivate"',
        url("receipt", case),
    ]:
        assert text in html, text
    assert f"{case.effective_at:%Y}" in html


def test_receipt_download(logged_in, customer):
    case = open_case_with_offer(customer)
    services.confirm_cancellation(case)
    response = logged_in.get(url("receipt", case))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert f'filename="{case.reference}.txt"' in response["Content-Disposition"]
    body = response.content.decode()
    assert case.reference in body and "Takes effect" in body and "Request received" in body
    # The download has no signed links: the reactivation is the account page's own address.
    assert url("reactivate", case) in body


def test_receipt_of_an_open_case_is_a_404(logged_in, customer):
    case = open_case_with_offer(customer)
    assert logged_in.get(url("receipt", case)).status_code == 404


def test_reactivate_in_one_click(logged_in, customer):
    case = open_case_with_offer(customer)
    services.confirm_cancellation(case)
    page = logged_in.get(url("reactivate", case))
    assert 'id="gc-reactivate"' in page.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED  # the GET changed nothing
    response = logged_in.post(url("reactivate", case))
    assert response["Location"] == url("reactivate", case)
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED
    assert "Welcome back" in logged_in.get(url("reactivate", case)).content.decode()
    assert logged_in.get(url("done", case))["Location"] == url("reactivate", case)
    # A second click is harmless.
    assert logged_in.post(url("reactivate", case)).status_code == 302
    assert kinds(case).count(EventKind.REACTIVATED) == 1


def test_reactivation_after_the_effective_date_explains(logged_in, customer):
    case = open_case_with_offer(customer)
    services.confirm_cancellation(case)
    CancellationCase.objects.filter(pk=case.pk).update(
        effective_at=timezone.now() - timedelta(minutes=1)
    )
    assert 'id="gc-reactivate"' not in logged_in.get(url("done", case)).content.decode()
    response = logged_in.post(url("reactivate", case))
    assert response.status_code == 302
    html = logged_in.get(url("reactivate", case)).content.decode()
    assert "can no longer be undone" in html
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED


def test_confirmation_email_has_the_receipt_and_reactivation_link(
    logged_in, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(url("start"), {"action": "cancel"})
    case = only_case(customer)
    body = mail.outbox[0].body
    assert case.reference in mail.outbox[0].subject
    for text in ["What was cancelled: Standard", "Request received", "Takes effect"]:
        assert text in body
    # The reactivation link is the signed one: it works from the mailbox, without a login.
    assert url("reactivate", case) not in body
    [link] = re.findall(r"https?://\S+/l/reactivate/\S+/", body)
    anonymous = Client()
    assert anonymous.get(urlsplit(link).path).status_code == 200
    anonymous.post(urlsplit(link).path)
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED


@pytest.mark.parametrize(
    "reason",
    [
        None,
        *sorted(
            path.name.removesuffix("_message.txt")
            for path in CONFIRMATION_TEMPLATES.glob("*_message.txt")
            if path.name != "default_message.txt"
        ),
    ],
)
def test_every_confirmation_variant_carries_the_signed_reactivation_link(
    customer, catalogue, reason
):
    case, _ = services.start_case(customer)
    if reason is not None:
        services.record_reason(case, reason)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    links = links_for(case, "email")
    rendered = render_message(
        case, "confirmation", channel="email", extra_context=links.as_context()
    )
    assert rendered.source.endswith(f"{reason or 'default'}_message.txt")
    assert links.reactivate in rendered.text
    assert url("reactivate", case) not in rendered.text


# --- compliance profiles -----------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["eu", "fr"])
def test_eu_and_fr_put_the_button_first_and_offer_nothing(settings, logged_in, customer, profile):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE=profile)
    html = logged_in.get(url("start")).content.decode()
    assert 'id="gc-continue"' not in html
    assert html.index('id="gc-cancel-now"') < html.index('name="reason"')
    response = logged_in.post(url("start"), {"action": "continue", "reason": "price"})
    case = only_case(customer)
    assert response["Location"] == url("done", case)  # nothing in the way
    assert case.compliance_profile == profile
    assert case.reason.slug == "price"
    assert not OfferPresentation.objects.filter(case=case).exists()


def test_an_eu_case_never_gets_an_offer_even_from_the_service(settings, customer, catalogue):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="eu")
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    assert services.present_offer(case) is None


def test_the_case_keeps_the_profile_it_started_under(settings, logged_in, customer):
    logged_in.post(url("start"), {"action": "continue", "reason": "price"})
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="eu")
    case = only_case(customer)
    assert case.compliance_profile == "us"  # called "default" before 0.2
    assert 'id="gc-accept"' in logged_in.get(url("offer", case)).content.decode()


# --- language ----------------------------------------------------------------------------------


def test_spanish_flow_follows_the_request_and_is_recorded(
    client, customer, catalogue, django_capture_on_commit_callbacks
):
    client.force_login(customer)
    html = client.get(url("start"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Cancelar mi suscripción" in html
    assert "Cuesta demasiado para lo que recibo" in html  # the catalogue's own translation
    client.post(url("start"), {"action": "continue", "reason": "price"}, HTTP_ACCEPT_LANGUAGE="es")
    case = only_case(customer)
    assert case.language == "es"
    html = client.get(url("offer", case), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Aceptar la oferta" in html
    assert "30 % de descuento" in html
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("confirm", case), HTTP_ACCEPT_LANGUAGE="es")
    assert "Referencia" in mail.outbox[0].body
    html = client.get(url("done", case), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Tu suscripción está cancelada" in html


# --- base template -----------------------------------------------------------------------------


def test_pages_extend_the_configured_base_template(settings, logged_in):
    html = logged_in.get(url("start")).content.decode()
    assert "site-header" in html  # the host's testapp/base.html
    assert "django_graceful_cancel/flow.css" in html
    settings.GRACEFUL_CANCEL = flow_settings(BASE_TEMPLATE="django_graceful_cancel/standalone.html")
    html = logged_in.get(url("start")).content.decode()
    assert "site-header" not in html
    assert 'class="gc-standalone"' in html


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("BASE_TEMPLATE", ""),
        ("ACCOUNT_URL", None),
        ("DECLARATION_RATE_LIMIT", -1),
        ("DECLARATION_RATE_WINDOW_MINUTES", 0),
    ],
)
def test_bad_flow_settings_are_system_check_errors(settings, key, value):
    from django_graceful_cancel.checks import check_settings

    settings.GRACEFUL_CANCEL = flow_settings(**{key: value})
    errors = [e for e in check_settings() if e.id == "graceful_cancel.E003"]
    assert any(key in e.msg for e in errors)


class UnreachableBackend:
    supports_period_end_cancel = True

    def get_active_subscription(self, customer: Any) -> None:
        from django_graceful_cancel.exceptions import BackendError

        raise BackendError("billing API timeout")


@override_settings(
    GRACEFUL_CANCEL=flow_settings(SUBSCRIPTION_BACKEND="tests.test_flow.UnreachableBackend")
)
def test_billing_provider_down_is_a_clear_page(logged_in):
    for response in (
        logged_in.get(url("start")),
        logged_in.post(url("start"), {"action": "cancel"}),
    ):
        assert response.status_code == 503
        assert "cannot reach our billing system" in response.content.decode()
    assert not CancellationCase.objects.exists()
