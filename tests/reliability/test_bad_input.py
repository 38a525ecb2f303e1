"""Hostile and oversized free text: stored bounded, rendered inert in emails, pages and the admin.

What a customer types (the reason in their words, a survey comment, their name) reaches staff in
the admin and customers in emails. Template syntax must never run (``{{ 7*7 }}`` stays text,
``{% debug %}`` never dumps the context), HTML must be escaped wherever HTML is produced, header
injection must not reach a subject line, and oversized input is bounded or refused with a 400,
never a 500.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.template import TemplateDoesNotExist
from django.urls import reverse

from django_graceful_cancel import services
from django_graceful_cancel.followups import outbox as followups
from django_graceful_cancel.models import (
    CancellationCase,
    FollowUp,
    MessageTemplate,
    Reason,
    StaffNote,
)
from django_graceful_cancel.rendering import render_message

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

SCRIPT = "<script>alert('gc')</script>"
PAYLOAD = (
    f'{{{{ 7*7 }}}} {{{{ "pwned"|upper }}}} {{% debug %}} {{{{ settings.SECRET_KEY }}}} '
    f"{SCRIPT} <b>bold</b>"
)
#: What must never appear: template syntax that ran, or live markup.
EXECUTED = ["PWNED", "{'", "SECRET_KEY'", "tests-only-secret-key"]


def hostile_case(make_customer: Any, **user: Any) -> CancellationCase:
    alice = make_customer("hostile", **user)
    type(alice).objects.filter(pk=alice.pk).update(first_name=PAYLOAD[:150])
    case, _ = services.start_case(alice)
    services.record_reason(case, "price", detail=PAYLOAD, contact_phone="+1 555 0100")
    return CancellationCase.objects.select_related("customer", "reason").get(pk=case.pk)


def assert_inert_text(text: str) -> None:
    assert "{{ 7*7 }}" in text and "{% debug %}" in text, text
    for bad in EXECUTED:
        assert bad not in text, (bad, text)


def assert_inert_html(html: str) -> None:
    assert SCRIPT not in html and "<b>bold</b>" not in html, html
    assert "&lt;script&gt;" in html, html
    for bad in EXECUTED:
        assert bad not in html, (bad, html)


def test_staff_copy_using_customer_text_renders_it_inert(make_customer, catalogue):
    """A MessageTemplate staff wrote may print what the customer typed: it stays text."""
    MessageTemplate.objects.create(
        reason=Reason.objects.get(slug="price"),
        stage="confirmation",
        channel="email",
        language="en",
        subject="Bye {{ name }}",
        body="Dear {{ name }}, you said: {{ case.reason_detail }}",
        html_body="<p>Dear {{ name }}, you said: {{ case.reason_detail }}</p>",
    )
    case = hostile_case(make_customer)
    rendered = render_message(case, "confirmation", channel="email")
    assert rendered.source.startswith("db:")
    assert_inert_text(rendered.text)
    assert_inert_html(rendered.html)
    assert "\n" not in rendered.subject and "\r" not in rendered.subject


def test_confirmation_email_with_hostile_name_and_header_injection(
    make_customer, catalogue, settings
):
    """The sent confirmation (through the outbox) carries the name as text, and a CR/LF in the
    name never becomes an extra mail header."""
    settings.GRACEFUL_CANCEL = {**settings.GRACEFUL_CANCEL, "FOLLOWUP_DISPATCH": "sweep"}
    MessageTemplate.objects.create(
        reason=Reason.objects.get(slug="price"),
        stage="confirmation",
        channel="email",
        language="en",
        subject="Goodbye {{ name }}",
        body="Dear {{ name }}: {{ case.reason_detail }}",
        html_body="<p>{{ name }}: {{ case.reason_detail }}</p>",
    )
    case = hostile_case(make_customer)
    get_user = type(case.customer)
    get_user.objects.filter(pk=case.customer_id).update(
        first_name="Eve\r\nBcc: victim@example.com {{ 7*7 }}"
    )
    mail.outbox.clear()
    services.confirm_cancellation(case)
    assert followups.sweep_followups() >= 1
    row = FollowUp.objects.get(case=case, stage="confirmation")
    assert row.status == "sent", row.last_error
    (message,) = mail.outbox
    assert "victim@example.com" not in message.to + message.cc + message.bcc
    assert "\n" not in message.subject and "{{ 7*7 }}" in message.subject
    assert "Bcc" not in str(message.message()).split("\n\n", 1)[0].replace(message.subject, ""), (
        "an injected header reached the message"
    )
    assert_inert_text(message.body)
    html = next(body for body, mime in message.alternatives if mime == "text/html")
    assert_inert_html(html)


def test_default_file_templates_keep_customer_text_inert(make_customer, catalogue):
    case = hostile_case(make_customer)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    for stage in ("confirmation", "thank_you", "survey", "winback"):
        for channel in ("email", "sms"):
            try:
                rendered = render_message(case, stage, channel=channel)
            except TemplateDoesNotExist:
                continue  # no copy for this stage on this channel
            for bad in EXECUTED:
                assert bad not in rendered.text + rendered.html + rendered.subject, (stage, bad)
            if rendered.html:
                assert SCRIPT not in rendered.html


def test_admin_shows_customer_text_escaped(admin_client, make_customer, catalogue, admin_user):
    case = hostile_case(make_customer)
    services.confirm_cancellation(case)
    services.set_root_cause(case, "quality", detail=PAYLOAD, actor=admin_user)
    services.add_note(case, PAYLOAD, actor=admin_user)
    CancellationCase.objects.filter(pk=case.pk).update(survey_comment=PAYLOAD, survey_score=3)
    pages = [
        reverse("admin:graceful_cancel_cancellationcase_change", args=[case.pk]),
        reverse("admin:graceful_cancel_cancellationcase_changelist") + "?q=hostile",
        reverse("admin:graceful_cancel_staffnote_changelist") if _registered(StaffNote) else None,
    ]
    for url in filter(None, pages):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert SCRIPT not in html and "<b>bold</b>" not in html, url
        for bad in ("tests-only-secret-key", "SECRET_KEY'"):
            assert bad not in html, (url, bad)
    change = admin_client.get(pages[0]).content.decode()
    assert "&lt;script&gt;" in change
    assert "{{ 7*7 }}" in change or "{{ 7*7 }}".replace("{", "&#123;") in change


def _registered(model: Any) -> bool:
    from django.contrib import admin

    return admin.site.is_registered(model)


# --- oversized input ---------------------------------------------------------------------------

HUGE = "é" * 1_000_000


def test_service_layer_bounds_oversized_text(make_customer, catalogue):
    user = make_customer("big")
    case, _ = services.start_case(user, time_zone="Z" * 10_000, language="x" * 10_000)
    services.record_reason(case, "other", detail=HUGE, contact_phone="9" * 10_000)
    case.refresh_from_db()
    assert len(case.reason_detail) == 5000
    assert len(case.contact_phone) <= 32
    assert len(case.time_zone) <= 64 and len(case.language) <= 16
    services.confirm_cancellation(case)
    services.answer_survey(case, score=5, comment=HUGE, actor="link")
    case.refresh_from_db()
    assert len(case.survey_comment) <= 5000


def test_api_refuses_oversized_text_with_a_400(client, make_customer, catalogue):
    user = make_customer("bigapi")
    client.force_login(user)
    created = client.post(reverse("graceful_cancel_api:case-list"), {}, "application/json")
    assert created.status_code in (200, 201), created.content
    reference = created.json()["reference"]
    url = reverse("graceful_cancel_api:case-reason", args=[reference])
    response = client.post(
        url, {"reason": "other", "detail": "x" * 100_000}, content_type="application/json"
    )
    assert response.status_code == 400
    response = client.post(
        url, {"reason": "other", "contact_phone": "9" * 10_000}, content_type="application/json"
    )
    assert response.status_code == 400
    assert CancellationCase.objects.get(reference=reference).reason_detail == ""


def test_pages_refuse_oversized_text_without_a_500(client, make_customer, catalogue):
    user = make_customer("bigpage")
    client.force_login(user)
    response = client.post(
        reverse("graceful_cancel:start"),
        {"reason": "other", "detail": "x" * 100_000, "action": "continue"},
    )
    assert response.status_code < 500
    case = CancellationCase.objects.filter(customer=user).first()
    assert case is None or len(case.reason_detail) <= 5000


# --- NUL bytes: PostgreSQL text cannot hold them; every input must answer 400, not 500 ---------


def test_nul_bytes_are_refused_by_the_api_and_pages(client, make_customer, catalogue):
    user = make_customer("nul")
    client.force_login(user)
    created = client.post(reverse("graceful_cancel_api:case-list"), {}, "application/json")
    reference = created.json()["reference"]
    response = client.post(
        reverse("graceful_cancel_api:case-reason", args=[reference]),
        {"reason": "other", "detail": "a\x00b"},
        content_type="application/json",
    )
    assert response.status_code == 400
    response = client.post(
        reverse("graceful_cancel:start"),
        {"reason": "other", "detail": "a\x00b", "action": "continue"},
    )
    assert response.status_code < 500


def test_nul_bytes_in_a_survey_answer_never_break_the_link_page(client, customer, catalogue):
    from django_graceful_cancel.followups import links

    case, _ = services.start_case(customer)
    services.confirm_cancellation(case)
    url = reverse("graceful_cancel:link_survey", args=[links.make_token("survey", case.pk)])
    response = client.post(url, {"score": "7", "comment": "fine\x00 thanks"})
    assert response.status_code < 500
    case.refresh_from_db()
    assert "\x00" not in case.survey_comment
