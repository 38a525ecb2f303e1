"""Reason-specific messages: the lookup order of rendering.render_message, and every file exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.template.loader import get_template
from django.test import override_settings

from django_graceful_cancel import services
from django_graceful_cancel.catalogue.defaults import REASONS
from django_graceful_cancel.models import MessageTemplate, Reason
from django_graceful_cancel.rendering import render_message

pytestmark = pytest.mark.django_db

ROOT = "django_graceful_cancel/messages"


@pytest.fixture
def case(customer: Any, catalogue: Any) -> Any:
    case, _ = services.start_case(customer)
    return services.record_reason(case, "price")


def db_template(reason: Reason | None, body: str, **fields: Any) -> MessageTemplate:
    fields.setdefault("language", "en")
    return MessageTemplate.objects.create(
        reason=reason, stage="flow_message", channel="page", body=body, **fields
    )


@pytest.mark.parametrize("slug", [r["slug"] for r in REASONS])
def test_every_default_reason_has_its_page_and_confirmation_copy(slug):
    get_template(f"{ROOT}/flow_message/{slug}_page.html")
    get_template(f"{ROOT}/confirmation/{slug}_message.txt")


def test_1_reason_row_beats_reason_file(case):
    db_template(case.reason, "Staff copy for price, {{ name }}.")
    db_template(None, "Generic staff copy.")
    rendered = render_message(case, "flow_message", channel="page")
    assert rendered.text == "Staff copy for price, Alice."
    assert rendered.source.startswith("db:")


def test_2_reason_file_beats_generic_row(case):
    db_template(None, "Generic staff copy.")
    rendered = render_message(case, "flow_message", channel="page")
    assert rendered.source == f"{ROOT}/flow_message/price_page.html"
    assert "Price matters" in rendered.text


def test_3_generic_row_beats_generic_file(customer, catalogue):
    reason = Reason.objects.create(slug="moving-abroad", category="other", label="Moving abroad")
    case, _ = services.start_case(customer)
    services.record_reason(case, reason)
    case.refresh_from_db()
    assert render_message(case, "flow_message", channel="page").source == (
        f"{ROOT}/flow_message/default_page.html"
    )
    db_template(None, "Generic staff copy.")
    assert render_message(case, "flow_message", channel="page").text == "Generic staff copy."


def test_4_no_reason_uses_the_generic_file(customer, catalogue):
    case, _ = services.start_case(customer)
    rendered = render_message(case, "flow_message", channel="page")
    assert rendered.source == f"{ROOT}/flow_message/default_page.html"
    assert "Whatever your reason" in rendered.text


def test_a_row_in_another_language_is_skipped_and_regional_falls_back(case):
    db_template(case.reason, "Texto del personal.", language="es")
    assert "Price matters" in render_message(case, "flow_message", channel="page").text
    es_mx = render_message(case, "flow_message", channel="page", language="es-mx")
    assert es_mx.text == "Texto del personal."


def test_inactive_rows_are_ignored(case):
    db_template(case.reason, "Old copy.", is_active=False)
    assert "Price matters" in render_message(case, "flow_message", channel="page").text


def test_page_rows_escape_what_customers_typed(case):
    case.customer.first_name = "<script>alert(1)</script>"
    case.customer.save()
    db_template(case.reason, "Hello {{ name }}")
    text = render_message(case, "flow_message", channel="page").text
    assert "<script>" not in text
    assert "&lt;script&gt;" in text


def test_reason_email_body_keeps_the_generic_subject(case):
    services.confirm_cancellation(case)
    case.refresh_from_db()
    rendered = render_message(case, "confirmation", channel="email")
    assert rendered.source == f"{ROOT}/confirmation/price_message.txt"
    assert case.reference in rendered.subject
    assert "Price matters" in rendered.text
    assert "Takes effect" in rendered.text


def test_host_templates_override_the_files(case, tmp_path: Path):
    override = tmp_path / ROOT / "flow_message"
    override.mkdir(parents=True)
    (override / "price_page.html").write_text("<p>Our own price copy for {{ plan }}.</p>")
    templates = [{**django_settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    with override_settings(TEMPLATES=templates):
        rendered = render_message(case, "flow_message", channel="page")
    assert rendered.text == "<p>Our own price copy for Standard.</p>"


def test_page_copy_uses_name_plan_tenure_and_effective_date(case):
    from django.utils import timezone

    when = timezone.now().replace(year=2031, month=3, day=4)
    db_template(
        case.reason,
        "{{ name }}|{{ plan }}|{{ tenure_months }}|{{ effective_at|date:'Y-m-d' }}",
    )
    text = render_message(
        case, "flow_message", channel="page", extra_context={"effective_at": when}
    ).text
    assert text == "Alice|Standard|13|2031-03-04"


# --- a broken row never breaks the page ----------------------------------------------------------


def test_a_reason_row_that_does_not_compile_falls_back_to_the_reason_file(case, caplog):
    # Saved before MessageTemplate.clean() existed, or straight into the database.
    broken = db_template(case.reason, "Hello {% if %}")
    rendered = render_message(case, "flow_message", channel="page")
    assert rendered.source == f"{ROOT}/flow_message/price_page.html"
    assert "Price matters" in rendered.text
    assert f"pk {broken.pk}" in caplog.text


def test_a_row_that_fails_to_render_falls_back_to_the_next_in_line(customer, catalogue, caplog):
    reason = Reason.objects.create(slug="moving-abroad", category="other", label="Moving abroad")
    case, _ = services.start_case(customer)
    services.record_reason(case, reason)
    case.refresh_from_db()
    # Compiles, fails when rendered: the generic file is next for a reason without a file.
    db_template(reason, "{% url 'no-such-page' %}")
    rendered = render_message(case, "flow_message", channel="page")
    assert rendered.source == f"{ROOT}/flow_message/default_page.html"
    db_template(None, "Generic staff copy.")
    assert render_message(case, "flow_message", channel="page").text == "Generic staff copy."
    assert "failed to render" in caplog.text


def test_the_offer_page_survives_a_broken_row(customer, catalogue, client):
    db_template(Reason.objects.get(slug="price"), "Hello {% if %}")
    client.force_login(customer)
    response = client.post("/account/cancel/", {"action": "continue", "reason": "price"})
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Price matters" in page.content.decode()
