"""The printable evidence record, in Debian's Chromium through Playwright: on screen and as
printed (print media and a PDF), with every date saying its time zone.

Screenshots go to /tmp/shots/evidence/ (GC_SHOTS overrides the directory) to be looked at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse

from django_graceful_cancel import services
from django_graceful_cancel.choices import FollowUpStatus
from django_graceful_cancel.followups import actions
from django_graceful_cancel.followups import outbox as followups
from django_graceful_cancel.models import FollowUp
from django_graceful_cancel.services import evidence
from tests.support import browser, flow_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser.chromium() as chromium:
        yield chromium


@pytest.fixture
def shots() -> Path:
    target = Path(os.environ.get("GC_SHOTS", "/tmp/shots/evidence"))
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_the_printable_record_reads_like_a_document(
    chromium, live_server, make_customer, catalogue, superuser, shots
):
    with override_settings(GRACEFUL_CANCEL=flow_settings()):
        customer = make_customer("alex")
        case, _ = services.start_case(customer, language="en")
        services.record_reason(
            case, "price", detail="It costs too much for me", contact_consent=True
        )
        presentation = services.present_offer(case)
        assert presentation is not None
        evidence.page_shown(
            case, "offer", shown="<p>We hear you: the price matters.</p><p>Stay for 30% less.</p>"
        )
        services.confirm_cancellation(case)
        row = FollowUp.objects.get(case=case, stage="confirmation")
        followups.send_followup(row.pk)
        FollowUp.objects.filter(pk=row.pk).update(status=FollowUpStatus.DELIVERED)
        evidence.page_shown(case, "done")
        actions.opt_out(customer, source="link", actor=customer)
        url = live_server.url + reverse("admin:graceful_cancel_evidence", args=[case.pk])
        context = chromium.new_context(locale="en-GB", viewport=browser.DESKTOP)
        browser.sign_in(context, superuser, live_server.url)
        page = context.new_page()
        page.goto(url)
        text = page.inner_text("body")
        page.screenshot(path=str(shots / "evidence-screen.png"), full_page=True)
        page.emulate_media(media="print")
        page.screenshot(path=str(shots / "evidence-print.png"), full_page=True)
        printed = page.inner_text("body")
        page.pdf(path=str(shots / "evidence.pdf"), format="A4")
        context.close()
    assert case.reference in text
    assert "We hear you: the price matters." in text and "Stay for 30% less." in text
    assert "It costs too much for me" in text
    assert "Delivered (email)" in text and "withdrawn" in text and "given" in text
    assert "All times are in UTC" in text
    assert text.count(" UTC") >= 8  # each date says its zone
    # Printed, the buttons go and the document stays.
    assert "Download JSON" in text and "Download JSON" not in printed
    assert case.reference in printed
