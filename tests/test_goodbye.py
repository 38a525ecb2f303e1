"""The good-bye package (issue 15): on the confirmation page and in the thank-you, the customer's
own data (a signed, single-purpose, expiring link), what they keep, and the site's gift."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.followups import links
from django_graceful_cancel.followups.links import links_for
from django_graceful_cancel.models import CancellationCase, PrivacyRequest
from django_graceful_cancel.rendering import render_message
from tests.support import gc_settings

pytestmark = pytest.mark.django_db

GIFT = {
    "title": {"en": "Our guide to exporting your playlists", "es": "Nuestra guía"},
    "url": "https://example.com/guide",
    "code": "WELCOMEBACK",
}


def site_content(customer: Any) -> dict[str, Any]:
    """A site's own data about a customer, for ``GOODBYE["export_extra"]``."""
    return {"playlists": [f"{customer.get_username()}'s favourites"]}


def cancelled(make_customer: Any, reason: str = "price", words: str = "") -> CancellationCase:
    case, _ = services.start_case(make_customer(), language="en")
    services.record_reason(case, reason, detail=words, contact_consent=True)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    return case


def done_page(client: Any, case: CancellationCase) -> str:
    client.force_login(case.customer)
    response = client.get(reverse("graceful_cancel:done", args=[case.reference]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_confirmation_page_offers_the_customers_own_data_by_default(
    client, make_customer, catalogue
):
    case = cancelled(make_customer)
    html = done_page(client, case)
    assert 'id="gc-goodbye-title"' in html
    assert "Download a copy of what we keep about your cancellation" in html
    assert "/account/cancel/l/export/" in html
    # Nothing the site did not set up is claimed.
    assert "parting gift" not in html and "content are kept" not in html


def test_a_site_that_sets_nothing_shows_no_package(client, make_customer, catalogue):
    case = cancelled(make_customer)
    with override_settings(GRACEFUL_CANCEL=gc_settings(GOODBYE={"export": False})):
        html = done_page(client, case)
        thank_you = render_message(
            case, "thank_you", extra_context=links_for(case, "email").as_context()
        )
    assert 'id="gc-goodbye-title"' not in html
    assert "/l/export/" not in html and "/l/export/" not in thank_you.text
    # The thank-you still says what is true: access until the end date.
    assert "Before you go" in thank_you.text and "stays active until" in thank_you.text


def test_the_package_says_what_the_site_set_up(client, make_customer, catalogue):
    case = cancelled(make_customer)
    goodbye = {
        "keeps_content": True,
        "gift": GIFT,
        "export_extra": "tests.test_goodbye.site_content",
    }
    with override_settings(GRACEFUL_CANCEL=gc_settings(GOODBYE=goodbye)):
        html = done_page(client, case)
        thank_you = render_message(
            case, "thank_you", extra_context=links_for(case, "email").as_context()
        )
    for text in (html, thank_you.html):
        assert (
            '<a href="https://example.com/guide">Our guide to exporting your playlists</a>' in text
        )
        assert "If you come back one day, this code is yours: WELCOMEBACK" in text
        assert "Your account and your content are kept after your subscription ends." in text
        assert "Download a copy of your data; the link works until" in text
    assert "A parting gift from us: Our guide to exporting your playlists" in thank_you.text
    assert "/account/cancel/l/export/" in thank_you.text


def test_the_export_link_downloads_the_customers_data_once_asked(client, make_customer, catalogue):
    case = cancelled(make_customer, words="Too expensive for me")
    url = links.export_link(case)
    page = client.get(url)
    assert page.status_code == 200
    assert b'id="gc-download"' in page.content
    assert not PrivacyRequest.objects.exists()  # a GET (a mail scanner) records nothing
    goodbye = {"export_extra": "tests.test_goodbye.site_content"}
    with override_settings(GRACEFUL_CANCEL=gc_settings(GOODBYE=goodbye)):
        response = client.post(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert f"{case.reference}-data.json" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert [c["reference"] for c in data["cases"]] == [case.reference]
    assert data["cases"][0]["reason_detail"] == "Too expensive for me"
    assert data["site"] == {"playlists": ["customer1's favourites"]}
    request = PrivacyRequest.objects.get()
    assert (request.kind, request.subject) == ("export", str(case.customer_id))


def test_the_export_link_is_single_purpose_and_expires(client, make_customer, catalogue):
    case = cancelled(make_customer)
    export_token = links.make_token("export", case.pk)
    survey_url = reverse("graceful_cancel:link_survey", args=[export_token])
    assert client.post(survey_url, {"score": "3"}).status_code == 400  # not a survey token
    survey_token = links.make_token("survey", case.pk)
    assert (
        client.post(reverse("graceful_cancel:link_export", args=[survey_token])).status_code == 400
    )
    url = reverse("graceful_cancel:link_export", args=[export_token])
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        assert client.post(url).status_code == 410  # GOODBYE["export_link_days"]: 7
    with (
        override_settings(GRACEFUL_CANCEL=gc_settings(GOODBYE={"export_link_days": 30})),
        time_machine.travel(timezone.now() + timedelta(days=8), tick=False),
    ):
        assert client.post(url).status_code == 200
    assert PrivacyRequest.objects.count() == 1


def test_no_export_for_an_erased_customer_or_a_site_without_it(client, make_customer, catalogue):
    case = cancelled(make_customer)
    url = links.export_link(case)
    with override_settings(GRACEFUL_CANCEL=gc_settings(GOODBYE={"export": False})):
        assert client.post(url).status_code == 404
        assert links.export_link(case) == ""
    services.erase_customer(case.customer, actor="staff")
    assert client.post(url).status_code == 404
    assert not PrivacyRequest.objects.filter(kind="export").exists()
