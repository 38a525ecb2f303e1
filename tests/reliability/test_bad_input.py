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
from tests.support import gc_settings

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    """Each test starts with the API's write throttle at zero (it counts in the cache)."""
    from django.core.cache import cache

    cache.clear()


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


# --- issue 14: no 500 for a deeply nested body, a NUL in a path or an impossible reference ------

#: The API's POST endpoints: (URL name, takes a reference).
API_POSTS = [
    ("case-list", False),
    ("case-reason", True),
    ("case-accept-offer", True),
    ("case-decline-offer", True),
    ("case-confirm", True),
    ("case-reactivate", True),
]


def _open_case(client: Any, user: Any) -> str:
    client.force_login(user)
    created = client.post(reverse("graceful_cancel_api:case-list"), {}, "application/json")
    assert created.status_code in (200, 201), created.content
    return str(created.json()["reference"])


@pytest.mark.parametrize(("name", "detail"), API_POSTS)
@pytest.mark.parametrize("depth", [33, 100_000])
def test_a_deeply_nested_body_is_a_400_on_every_api_post(
    client, make_customer, catalogue, name, detail, depth
):
    """A body nested thousands of levels deep made the JSON parser raise RecursionError: an HTML
    500 on every POST. The API's parser answers 400 ``parse_error``, and refuses anything nested
    deeper than 32 levels (no body of this API nests at all)."""
    client.raise_request_exception = False
    reference = _open_case(client, make_customer("nested"))
    url = reverse(f"graceful_cancel_api:{name}", args=[reference] if detail else [])
    body = "[" * depth + "]" * depth
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "parse_error"
    case = CancellationCase.objects.get(reference=reference)
    assert case.status == "open" and case.reason is None


def test_a_flat_body_nested_within_the_limit_is_parsed():
    from django_graceful_cancel.api.parsers import MAX_DEPTH, nesting_depth

    assert nesting_depth({"reason": "price"}) == 1
    assert nesting_depth([[[]]]) == 3
    assert nesting_depth({"a": [{"b": []}]}) == 4
    deep: Any = []
    for _ in range(10_000):
        deep = [deep]
    assert nesting_depth(deep) == MAX_DEPTH + 1  # counted without recursion, and stops early


#: A NUL byte, and references no case can have (too long, a character no reference holds).
IMPOSSIBLE = ["a%00b", "%00", "GC-" + "X" * 40, "GC-%C3%A9T%C3%A9", "a%20b"]
#: The same for tokens (a long one of the right alphabet is a token that fails its signature:
#: the link page's own "invalid link" answer).
IMPOSSIBLE_TOKENS = ["a%00b", "%00", "x" * 1025, "%C3%A9t%C3%A9", "a%20b"]

FLOW_PAGES = ["offer", "accept", "confirm", "done", "receipt", "saved", "reactivate"]
TOKEN_PAGES = [
    "link_unsubscribe",
    "link_survey",
    "link_reactivate",
    "declaration_received",
    "declaration_dispute",
    "declaration_confirm",
]


def _path(name: str, kwarg: str, value: str) -> str:
    """The page's path with ``value`` in place of its reference or token (not reversible)."""
    placeholder = "PLACEHOLDER0"
    return reverse(f"graceful_cancel:{name}", kwargs={kwarg: placeholder}).replace(
        placeholder, value
    )


@pytest.mark.parametrize("profile", ["default", "eu"])
@pytest.mark.parametrize(("value", "token"), list(zip(IMPOSSIBLE, IMPOSSIBLE_TOKENS, strict=True)))
def test_impossible_references_and_tokens_are_a_404_on_every_page(
    client, customer, catalogue, settings, profile, value, token
):
    """A NUL byte in a path answered 500 on PostgreSQL (it refuses NUL in a query) on the
    declaration pages, six customer pages and the links; such a path now matches no URL."""
    settings.GRACEFUL_CANCEL = gc_settings(COMPLIANCE_PROFILE=profile)
    client.raise_request_exception = False
    client.force_login(customer)
    services.start_case(customer)
    for name in FLOW_PAGES:
        for method in (client.get, client.post):
            response = method(_path(name, "reference", value))
            assert response.status_code == 404, (name, method, response.status_code)
    client.logout()  # the declaration pages and the links need no login
    for name in TOKEN_PAGES:
        if name == "declaration_confirm" and not _has_url(name):
            continue
        for method in (client.get, client.post):
            response = method(_path(name, "token", token))
            assert response.status_code == 404, (name, method, response.status_code)


def _has_url(name: str) -> bool:
    from django.urls import NoReverseMatch

    try:
        reverse(f"graceful_cancel:{name}", kwargs={"token": "x"})
    except NoReverseMatch:
        return False
    return True


@pytest.mark.parametrize("value", [*IMPOSSIBLE, "GC-XXXX%2FYYYY"])
def test_impossible_references_are_a_json_404_in_the_api(client, customer, catalogue, value):
    client.raise_request_exception = False
    _open_case(client, customer)
    base = reverse("graceful_cancel_api:case-list")
    paths = [f"{base}{value}/"] + [
        f"{base}{value}/{action}/"
        for action in ("reason", "accept-offer", "decline-offer", "confirm", "reactivate")
    ]
    for path in paths:
        for method in (client.get, client.post):
            response = method(path, {}, content_type="application/json")
            assert response.status_code == 404, (path, response.status_code)
            assert response["Content-Type"].startswith("application/json")
            assert response.json()["code"] == "not_found"


def test_well_formed_references_still_reach_the_views(client, customer, catalogue):
    reference = _open_case(client, customer)
    assert client.get(reverse("graceful_cancel:offer", args=[reference])).status_code == 200
    api = reverse("graceful_cancel_api:case-detail", args=[reference])
    assert client.get(api).json()["reference"] == reference
    # A mistyped reference of the right shape is the view's own 404.
    assert client.get(reverse("graceful_cancel:offer", args=["GC-0000-0000-0000"])).status_code == (
        404
    )


# --- issue 14: phone numbers and emails, checked by the service for every surface --------------

BAD_PHONES = [
    "call me maybe",
    "-1",
    "+34 600\x07123 456",
    "+34 600\n123 456",
    "+3460",
    "600 123 456",
]


def _reason_by_api(client: Any, reference: str, **body: Any) -> Any:
    url = reverse("graceful_cancel_api:case-reason", args=[reference])
    return client.post(url, body, content_type="application/json")


def _reason_by_page(client: Any, **data: Any) -> Any:
    return client.post(reverse("graceful_cancel:start"), {"action": "continue", **data})


@pytest.mark.parametrize("phone", BAD_PHONES)
@pytest.mark.parametrize("channel", ["sms", "whatsapp", "phone"])
def test_the_api_refuses_a_phone_number_that_is_not_one(
    client, make_customer, catalogue, phone, channel
):
    reference = _open_case(client, make_customer("badphoneapi"))
    response = _reason_by_api(
        client,
        reference,
        reason="price",
        preferred_channel=channel,
        contact_consent=True,
        contact_phone=phone,
    )
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["contact_phone"]
    case = CancellationCase.objects.get(reference=reference)
    assert (case.reason, case.contact_phone, case.contact_consent) == (None, "", False)


@pytest.mark.parametrize("phone", BAD_PHONES)
def test_the_page_refuses_a_phone_number_that_is_not_one(client, make_customer, catalogue, phone):
    user = make_customer("badphonepage")
    client.force_login(user)
    response = _reason_by_page(
        client, reason="price", preferred_channel="sms", contact_consent="on", contact_phone=phone
    )
    assert response.status_code == 400  # the form again, with the error on the field
    assert "contact_phone" in response.context["form"].errors
    case = CancellationCase.objects.filter(customer=user).first()
    assert case is None or (case.reason, case.contact_phone) == (None, "")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("+34 600 123 456", "+34600123456"), ("+1 (202) 555-0143", "+12025550143")],
)
def test_valid_numbers_are_stored_in_e164_from_the_page_and_the_api(
    client, make_customer, catalogue, typed, stored
):
    reference = _open_case(client, make_customer("e164api"))
    response = _reason_by_api(
        client, reference, preferred_channel="sms", contact_consent=True, contact_phone=typed
    )
    assert response.status_code == 200, response.content
    assert CancellationCase.objects.get(reference=reference).contact_phone == stored
    user = make_customer("e164page")
    client.force_login(user)
    response = _reason_by_page(
        client, preferred_channel="whatsapp", contact_consent="on", contact_phone=typed
    )
    assert response.status_code == 302, response.content[:500]
    assert CancellationCase.objects.get(customer=user).contact_phone == stored


def test_a_phone_channel_with_consent_needs_a_number_on_both_surfaces(
    client, make_customer, catalogue
):
    """The rule lives in the service (flow.check_reason): the API refuses what the page does."""
    reference = _open_case(client, make_customer("nonumberapi"))
    response = _reason_by_api(client, reference, preferred_channel="sms", contact_consent=True)
    assert response.status_code == 400 and list(response.json()) == ["contact_phone"]
    user = make_customer("nonumberpage")
    client.force_login(user)
    response = _reason_by_page(client, preferred_channel="sms", contact_consent="on")
    assert response.status_code == 400 and "contact_phone" in response.context["form"].errors


def test_the_phone_region_setting_accepts_national_numbers(
    client, make_customer, catalogue, settings
):
    reference = _open_case(client, make_customer("region"))
    body = {"preferred_channel": "sms", "contact_consent": True, "contact_phone": "600 123 456"}
    assert _reason_by_api(client, reference, **body).status_code == 400
    settings.GRACEFUL_CANCEL = gc_settings(PHONE_REGION="ES")
    response = _reason_by_api(client, reference, **body)
    assert response.status_code == 200, response.content
    assert CancellationCase.objects.get(reference=reference).contact_phone == "+34600123456"


def test_a_bad_phone_region_is_reported_by_the_checks(settings):
    from django_graceful_cancel.checks import check_settings

    settings.GRACEFUL_CANCEL = gc_settings(PHONE_REGION="Atlantis")
    errors = [e for e in check_settings() if "PHONE_REGION" in e.msg]
    assert [e.id for e in errors] == ["graceful_cancel.E003"]
    settings.GRACEFUL_CANCEL = gc_settings(PHONE_REGION="es")
    assert not [e for e in check_settings() if "PHONE_REGION" in e.msg]


def test_the_service_keeps_only_valid_numbers_in_e164(make_customer, catalogue):
    """``record_reason`` (called by staff and host code too) never stores what is not a number."""
    user = make_customer("lenient")
    case, _ = services.start_case(user)
    services.record_reason(case, None, contact_consent=True, contact_phone="call me maybe")
    case.refresh_from_db()
    assert case.contact_phone == ""
    services.record_reason(case, None, contact_consent=True, contact_phone="+34 600 123 456")
    case.refresh_from_db()
    assert case.contact_phone == "+34600123456"


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "phone"])
@pytest.mark.parametrize("stored", ["call me maybe", "-1", "+3460", ""])
def test_follow_ups_to_a_case_without_a_valid_number_go_by_email(
    make_customer, catalogue, channel, stored
):
    """A number stored before numbers were checked (or none) cannot be messaged: every step
    falls back to email, where it was going to a number nobody has."""
    from django_graceful_cancel.followups import sequences

    user = make_customer("fallback")
    case, _ = services.start_case(user, language="en")
    services.record_reason(
        case,
        "quality",
        preferred_channel=channel,
        contact_consent=True,
        contact_phone="+34600000001",
    )
    CancellationCase.objects.filter(pk=case.pk).update(contact_phone=stored)
    case = services.confirm_cancellation(CancellationCase.objects.get(pk=case.pk))
    channels = dict(FollowUp.objects.filter(case=case).values_list("stage", "channel"))
    assert set(channels) >= {"confirmation", "thank_you", "survey"}
    assert set(channels.values()) == {"email"}, channels
    for step in ("preferred", channel):
        resolved = sequences.resolve_channel(case, sequences.Step("thank_you", 3, step))
        assert resolved == "email"


def test_follow_ups_with_a_valid_number_keep_the_customers_channel(make_customer, catalogue):
    from django_graceful_cancel.followups import sequences

    user = make_customer("keeps")
    case, _ = services.start_case(user, language="en")
    services.record_reason(
        case, "quality", preferred_channel="sms", contact_consent=True, contact_phone="+34600000001"
    )
    case.refresh_from_db()
    assert sequences.resolve_channel(case, sequences.Step("thank_you", 3, "preferred")) == "sms"


@pytest.mark.parametrize("length", [255, 300, 320])
def test_an_email_longer_than_254_is_refused_not_cut(length):
    """An address cut to 254 characters is someone else's: the shared rule refuses it with a
    field error (services.inputs.check_email, for the declaration page and any other form)."""
    from django_graceful_cancel.exceptions import InvalidInput
    from django_graceful_cancel.services import inputs

    address = "a" * (length - len("@example.com")) + "@example.com"
    assert len(address) == length
    with pytest.raises(InvalidInput) as refused:
        inputs.check_email(address)
    assert list(refused.value.errors) == ["email"]
    assert refused.value.errors["email"][0].code == "email_too_long"
    ok = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 57 + ".com"
    assert len(ok) == 254 and inputs.check_email(f"  {ok} ") == ok


def test_text_rules_refuse_nul_and_lone_surrogates():
    from django_graceful_cancel.exceptions import InvalidInput
    from django_graceful_cancel.services import flow, inputs

    for text in ("a\x00b", "half \ud800 pair"):
        with pytest.raises(InvalidInput) as refused:
            flow.check_reason(None, detail=text)
        assert list(refused.value.errors) == ["detail"]
        assert inputs.storable(text) in ("ab", "half  pair")
    assert flow.check_reason(None, detail=" fine, thanks ").detail == "fine, thanks"


def test_the_schema_states_what_the_api_refuses(client, catalogue):
    """Request strings say "no NUL"; the phone number says what it is; the reference says what it
    looks like; the reason body says that a phone channel with consent needs a number."""
    schema = client.get(reverse("graceful_cancel_api:schema") + "?format=json").json()
    components = schema["components"]["schemas"]
    strings = [
        (name, field, prop)
        for name, component in components.items()
        if name.endswith("Request")
        for field, prop in component.get("properties", {}).items()
        if prop.get("type") == "string"
    ]
    assert strings
    for name, field, prop in strings:
        assert "pattern" in prop or "enum" in prop or "format" in prop, (name, field)
    reason = components["RecordReasonRequest"]
    assert reason["properties"]["detail"]["pattern"] == "^[^\\x00]*$"
    phone = reason["properties"]["contact_phone"]
    assert phone["format"] == "phone" and phone["pattern"].startswith("^$|^\\+")
    assert reason["allOf"][0]["anyOf"]
    path = schema["paths"]["/api/cancel/cases/{reference}/"]["get"]["parameters"]
    (reference,) = [p for p in path if p["name"] == "reference"]
    assert "\\x00" not in reference["schema"]["pattern"]
    import re

    assert not re.fullmatch(reference["schema"]["pattern"], "a\x00b")


@pytest.mark.django_db
def test_the_declaration_page_refuses_an_email_longer_than_254_characters_instead_of_cutting_it(
    client: Any,
) -> None:
    from django.test import override_settings

    from django_graceful_cancel.models import CancellationDeclaration

    long_email = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example.com"
    assert 254 < len(long_email) <= 320
    with override_settings(GRACEFUL_CANCEL=gc_settings(COMPLIANCE_PROFILE="eu")):
        response = client.post(
            reverse("graceful_cancel:declare"),
            {"name": "Ana", "email": long_email, "termination": "ordinary"},
        )
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    assert not CancellationDeclaration.objects.exists()
