"""The retention desk in a real browser: Playwright driving Debian's Chromium.

GC_SCREENSHOTS=1 writes the screenshots to docs/img/ (docs/admin.md shows them); otherwise they
go to a temporary directory.
"""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from django_graceful_cancel import analytics, services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_work_a_case_and_read_the_dashboard(chromium, live_server, shots, django_user_model):
    call_command("load_demo_data", "--cases", "600", stdout=open(os.devnull, "w"))  # noqa: SIM115
    boss = django_user_model.objects.get(username="admin")
    alice = django_user_model.objects.get(username="alice")
    case, _ = services.start_case(alice)
    services.record_reason(
        case,
        "price",
        detail="Prices went up twice this year",
        preferred_channel="phone",
        contact_consent=True,
        contact_phone="+34 600 111 222",
    )
    services.present_offer(case)
    services.confirm_cancellation(case)
    services.set_root_cause(
        case, "unmet-expectations", detail="Expected 4K on Standard", actor=boss
    )
    services.add_note(case, "Called: she would stay for a cheaper plan without 4K.", actor=boss)

    client = Client()
    client.force_login(boss)
    session = client.cookies["sessionid"].value
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    foreign: list[str] = []
    page = context.new_page()
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((live_server.url, "data:"))
            else foreign.append(request.url)
        ),
    )

    # The queue, highest priority first.
    page.set_viewport_size({"width": 1600, "height": 900})
    page.goto(live_server.url + reverse("admin:graceful_cancel_cancellationcase_changelist"))
    assert page.locator("#result_list tbody tr").count() == 50
    page.click("#toggle-nav-sidebar")  # more room for the queue's columns
    page.screenshot(path=str(shots / "admin-case-list.png"))

    page.set_viewport_size({"width": 1400, "height": 900})
    # One case: history, offer, follow-ups, notes; assign it to me from the page.
    page.goto(
        live_server.url + reverse("admin:graceful_cancel_cancellationcase_change", args=[case.pk])
    )
    assert page.get_by_text("Prices went up twice this year").is_visible()
    page.select_option("#id_owner", str(boss.pk))
    page.fill("#id_new_note", "Offered the Basic plan by phone.")
    page.screenshot(path=str(shots / "admin-case.png"), full_page=True)
    page.click("input[name=_continue]")
    page.wait_for_load_state()
    case.refresh_from_db()
    assert case.owner == boss
    assert case.notes.filter(body="Offered the Basic plan by phone.").exists()

    # The dashboard: charts drawn on the server, the numbers beside them.
    page.goto(live_server.url + reverse("admin:graceful_cancel_dashboard"))
    assert page.locator("svg.gc-chart").count() >= 6
    expected = analytics.dashboard(*analytics.default_range())["summary"]["total"]
    assert page.locator('[data-figure="total"]').inner_text() == str(expected)
    assert page.get_by_text("Offer experiments: real lift over the holdout").is_visible()
    box = page.locator("svg.gc-chart").first.bounding_box()
    assert box is not None and box["width"] > 300
    page.screenshot(path=str(shots / "admin-dashboard.png"), full_page=True)
    assert foreign == []  # no external scripts, fonts or images
    context.close()
