"""Messages written for the person (issue 15): every reason x stage x shipped language.

The matrix renders each message as a customer would get it, in two situations:

* **nothing to claim**: no words typed, no feedback route, an immediate cancellation read three
  days later, no good-bye extras, nothing new: a message that claims anything (beyond what is
  true) fails, and so does a date in the past described as the future;
* **everything true**: the customer's words, a route for the reason, access that continues, the
  good-bye package, what's new: the claims each stage makes then must be there (which also shows
  that the claim detector finds them).

Each run also fails on a string left untranslated (Spanish), on generic copy where the catalogue
has copy written for the reason, and on a win-back planned for a reason that forbids it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import override_settings
from django.utils import formats, timezone, translation

from django_graceful_cancel import dates, services
from django_graceful_cancel.catalogue.defaults import REASON_COPY, REASONS, STAGE_SLOTS, STAGES
from django_graceful_cancel.followups import sequences
from django_graceful_cancel.followups.links import links_for
from django_graceful_cancel.models import FollowUp, Reason
from django_graceful_cancel.rendering import (
    WORDS_MAX_LENGTH,
    find_claims,
    formal_register,
    has_reason_copy,
    lint_file,
    lint_template,
    quote_words,
    render_message,
)
from tests.support import gc_settings
from tests.support.messages import (
    WHATS_NEW_ITEMS,
    contexts_used,
    untranslated_strings,
)

pytestmark = pytest.mark.django_db

SLUGS = [reason["slug"] for reason in REASONS]
LANGUAGES = ["en", "es", "fr"]
CHANNEL = {
    "flow_message": "page",
    "confirmation": "email",
    "thank_you": "email",
    "survey": "email",
    "winback": "email",
}
WORDS = "Nadie respondió a mis correos, and the offline mode never worked"
TEMPLATES = Path(__file__).resolve().parent.parent / "django_graceful_cancel" / "templates"

#: The claims each stage makes when everything is true (and saving is allowed).
EXPECTED_WHEN_TRUE: dict[str, set[str]] = {
    "flow_message": {"access_until"},
    "confirmation": {"their_words", "access_until", "keeps_content", "can_reactivate"},
    "thank_you": {
        "their_words",
        "access_until",
        "keeps_content",
        "export_url",
        "gift",
        "can_reactivate",
    },
    "survey": set(),
    "winback": {"whats_new", "can_reactivate", "last_message"},
}
ROUTED_STAGES = {"flow_message", "confirmation", "thank_you"}


def everything_true(slug: str) -> dict[str, Any]:
    return gc_settings(
        FEEDBACK_ROUTES={slug: {"to": ["listening@example.com"]}},
        WHATS_NEW="tests.support.messages.sample_whats_new",
        GOODBYE={
            "export": True,
            "keeps_content": True,
            "gift": {"title": {"en": "Our guide", "es": "Nuestra guía"}, "code": "BACK20"},
        },
    )


def nothing_true() -> dict[str, Any]:
    return gc_settings(GOODBYE={"export": False})


def rendered_text(rendered: Any) -> str:
    return "\n".join([rendered.subject, rendered.text, rendered.html])


def written_for(slug: str, stage: str, language: str) -> str:
    """The reason's own sentence for the stage, in the language's register (FORMAL_REGISTER), as
    the customer reads it."""
    slot = next(iter(STAGE_SLOTS[stage].values()))
    say = REASON_COPY[slug][slot]
    with translation.override(language):
        text = say.formal if formal_register(language) else say.informal
        return str(text) % {"site": "Test Streaming"}


def check_stage(
    *,
    slug: str,
    stage: str,
    language: str,
    rendered: Any,
    missed: list[str],
    allowed: set[str],
    expected: set[str],
) -> list[str]:
    """The problems of one rendered message (empty when it is right)."""
    problems = []
    where = f"{slug}/{stage}/{language}"
    if missed:
        problems.append(f"{where}: untranslated {sorted(set(missed))}")
    text = rendered_text(rendered)
    if has_reason_copy(Reason.objects.get(slug=slug), stage):
        if not rendered.reason_specific:
            problems.append(f"{where}: generic copy ({rendered.source})")
        own = written_for(slug, stage, language)
        if own not in " ".join(text.split()):
            problems.append(f"{where}: its own sentence is missing: {own!r}")
    found = find_claims(text)
    if found - allowed:
        problems.append(f"{where}: claims without their condition {sorted(found - allowed)}")
    if expected - found:
        problems.append(f"{where}: claims missing although true {sorted(expected - found)}")
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("slug", SLUGS)
def test_nothing_to_claim_claims_nothing(make_customer, catalogue, slug, language):
    """No words, no route, an immediate cancellation, no extras: nothing is claimed, no past
    date is described as the future, every string is translated, the copy is the reason's own."""
    reason = Reason.objects.get(slug=slug)
    saving = {"saving_allowed"} if reason.offer_allowed else set()
    problems: list[str] = []
    with override_settings(GRACEFUL_CANCEL=nothing_true()):
        case, _ = services.start_case(make_customer(), language=language)
        services.record_reason(case, slug, contact_consent=True)
        case.refresh_from_db()
        with untranslated_strings(language) as missed:
            page = render_message(
                case,
                "flow_message",
                channel="page",
                extra_context={"effective_at": timezone.now(), "ends_later": False},
            )
        problems += check_stage(
            slug=slug,
            stage="flow_message",
            language=language,
            rendered=page,
            missed=missed,
            allowed=saving,
            expected=set(),
        )
        services.confirm_cancellation(case, effective="immediately")
        case.refresh_from_db()
        planned = [step.stage for step, _c, _d in sequences.plan(case, start=timezone.now())]
        if not reason.offer_allowed:
            assert "winback" not in planned, f"{slug}: a win-back for a reason that forbids it"
            assert not FollowUp.objects.filter(case=case, stage="winback").exists()
        else:
            assert "winback" in planned
        with translation.override(language):
            ended = formats.date_format(timezone.localtime(case.effective_at), "DATE_FORMAT")
        with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
            for stage in STAGES[1:]:
                with untranslated_strings(language) as missed:
                    rendered = render_message(
                        case,
                        stage,
                        channel=CHANNEL[stage],
                        extra_context=links_for(case, "email").as_context(),
                    )
                problems += check_stage(
                    slug=slug,
                    stage=stage,
                    language=language,
                    rendered=rendered,
                    missed=missed,
                    allowed=saving,
                    expected=set(),
                )
                # A date already past, described as the future ("until", "hasta").
                future = re.compile(rf"(?:until|hasta(?: el)?|jusqu.au)\s+{re.escape(ended)}", re.I)
                if future.search(" ".join(rendered_text(rendered).split())):
                    problems.append(f"{slug}/{stage}/{language}: {ended} (past) said as future")
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("slug", SLUGS)
def test_everything_true_is_said_where_it_belongs(make_customer, catalogue, slug, language):
    """The customer's words, a route, access that continues, the good-bye package and what's
    new: each stage says what is true, translated, in the reason's own copy."""
    reason = Reason.objects.get(slug=slug)
    true = {
        "their_words",
        "access_until",
        "can_reactivate",
        "keeps_content",
        "export_url",
        "gift",
        "whats_new",
        "last_message",
        "feedback_routed",
    } | ({"saving_allowed"} if reason.offer_allowed else set())
    routed = "routed" in REASON_COPY.get(slug, {})
    problems: list[str] = []
    with override_settings(GRACEFUL_CANCEL=everything_true(slug)):
        case, _ = services.start_case(make_customer(), language=language)
        services.record_reason(case, slug, detail=WORDS, contact_consent=True)
        case.refresh_from_db()
        with untranslated_strings(language) as missed:
            page = render_message(
                case,
                "flow_message",
                channel="page",
                extra_context={"effective_at": case.period_end, "ends_later": True},
            )
        expected = EXPECTED_WHEN_TRUE["flow_message"] | ({"feedback_routed"} if routed else set())
        problems += check_stage(
            slug=slug,
            stage="flow_message",
            language=language,
            rendered=page,
            missed=missed,
            allowed=true,
            expected=expected,
        )
        services.confirm_cancellation(case)
        case.refresh_from_db()
        rows = {row.stage: row for row in FollowUp.objects.filter(case=case)}
        with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
            for stage in STAGES[1:]:
                if stage == "winback" and not reason.offer_allowed:
                    assert "winback" not in rows, f"{slug}: a win-back for a reason that forbids it"
                    continue
                extra: dict[str, Any] = links_for(case, "email").as_context()
                if stage in rows:
                    extra["followup"] = rows[stage]
                with untranslated_strings(language) as missed:
                    rendered = render_message(
                        case, stage, channel=CHANNEL[stage], extra_context=extra
                    )
                expected = set(EXPECTED_WHEN_TRUE[stage])
                if routed and stage in ROUTED_STAGES:
                    expected.add("feedback_routed")
                if not reason.offer_allowed and stage == "thank_you":
                    expected.discard("can_reactivate")  # no "changed your mind?" nudge
                problems += check_stage(
                    slug=slug,
                    stage=stage,
                    language=language,
                    rendered=rendered,
                    missed=missed,
                    allowed=true,
                    expected=expected,
                )
    assert problems == []


# --- the customer's own words ---------------------------------------------------------------


def test_their_words_come_back_short_and_escaped(make_customer, catalogue, client):
    long_words = "<script>alert(1)</script> " + "the offline mode never worked " * 12
    case, _ = services.start_case(make_customer(), language="en")
    services.record_reason(case, "technical-problems", detail=long_words, contact_consent=True)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    quote = quote_words(long_words)
    assert len(quote) == WORDS_MAX_LENGTH and quote.endswith("…")
    thank_you = render_message(
        case, "thank_you", extra_context=links_for(case, "email").as_context()
    )
    assert "Thank you for telling us in your own words: “<script>" in thank_you.text
    assert "<script>" not in thank_you.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in thank_you.html
    assert long_words.strip() not in thank_you.text  # bounded, not the whole text
    client.force_login(case.customer)
    page = client.get(f"/account/cancel/{case.reference}/done/").content.decode()
    assert "in your own words" in page and "&lt;script&gt;" in page and "<script>alert" not in page


def test_no_words_no_pretending(make_customer, catalogue, client):
    case, _ = services.start_case(make_customer(), language="en")
    services.record_reason(case, "other", detail="   ")
    services.confirm_cancellation(case)
    case.refresh_from_db()
    for stage in ("confirmation", "thank_you"):
        assert "own words" not in render_message(case, stage).text
    client.force_login(case.customer)
    assert "own words" not in client.get(f"/account/cancel/{case.reference}/done/").content.decode()


# --- register --------------------------------------------------------------------------------


@pytest.mark.parametrize(("formal", "register"), [(True, "formal"), (False, "informal")])
def test_the_register_follows_the_setting(make_customer, catalogue, formal, register):
    case, _ = services.start_case(make_customer(), language="es")
    services.record_reason(case, "price", contact_consent=True)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    other = "informal" if formal else "formal"
    with override_settings(GRACEFUL_CANCEL=gc_settings(FORMAL_REGISTER={"es": formal})):
        with contexts_used() as used:
            rendered = render_message(case, "thank_you")
        assert register in used and other not in used
        # The Spanish itself (tú / usted), once the catalogue has the copy.
        assert ("Gracias por su tiempo" if formal else "Gracias por tu tiempo") in rendered.subject
    # English has one register, and a language left out is informal.
    with override_settings(GRACEFUL_CANCEL=gc_settings(FORMAL_REGISTER={"de": True})):
        with contexts_used() as used:
            render_message(case, "thank_you", language="en")
        assert "informal" in used and "formal" not in used


# --- sequences that know the reason -------------------------------------------------------------


def test_a_closing_business_gets_no_winback_even_when_a_sequence_asks(make_customer, catalogue):
    steps = [
        {"stage": "confirmation", "days": 0, "channel": "email"},
        {"stage": "winback", "days": 10, "channel": "email", "consent": True},
        {"stage": "check_in", "days": 20, "channel": "email", "template": "winback"},
    ]
    with override_settings(
        GRACEFUL_CANCEL=gc_settings(FOLLOWUP_SEQUENCES={"business-closed": steps, "default": steps})
    ):
        closing, _ = services.start_case(make_customer(), language="en")
        services.record_reason(closing, "business-closed", contact_consent=True)
        services.confirm_cancellation(closing)
        staying, _ = services.start_case(make_customer(), language="en")
        services.record_reason(staying, "price", contact_consent=True)
        services.confirm_cancellation(staying)
    assert set(FollowUp.objects.filter(case=closing).values_list("stage", flat=True)) == {
        "confirmation"
    }
    assert set(FollowUp.objects.filter(case=staying).values_list("stage", flat=True)) == {
        "confirmation",
        "winback",
        "check_in",
    }


def test_after_an_immediate_cancellation_nothing_speaks_of_access_that_continues(
    make_customer, catalogue
):
    case, _ = services.start_case(make_customer(), language="en")
    services.record_reason(case, "price", contact_consent=True)
    services.confirm_cancellation(case, effective="immediately")
    case.refresh_from_db()
    texts = [
        rendered_text(
            render_message(case, stage, extra_context=links_for(case, "email").as_context())
        )
        for stage in ("confirmation", "thank_you")
    ]
    assert not any("active until" in t or "access until" in t for t in texts)
    # The same message for a cancellation at the end of the period says it.
    later, _ = services.start_case(make_customer(), language="en")
    services.record_reason(later, "price", contact_consent=True)
    services.confirm_cancellation(later)
    later.refresh_from_db()
    assert "stays active until" in render_message(later, "thank_you").text
    # Three weeks on, the end date is past: the thank-you no longer says it.
    with time_machine.travel(later.effective_at + timedelta(days=1), tick=False):
        assert "active until" not in render_message(later, "thank_you").text


def test_the_winback_names_only_what_the_site_says_changed(make_customer, catalogue, caplog):
    case, _ = services.start_case(make_customer(), language="en")
    services.record_reason(case, "missing-features", contact_consent=True)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    plain = render_message(case, "winback")
    assert find_claims(rendered_text(plain)) & {"whats_new"} == set()
    assert plain.subject == "A note from Test Streaming"
    source = "tests.support.messages.sample_whats_new"
    with override_settings(GRACEFUL_CANCEL=gc_settings(WHATS_NEW=source)):
        news = render_message(case, "winback")
    assert news.subject == "What has changed at Test Streaming since you left"
    assert "Since you left, this has changed:" in news.text
    assert "Offline downloads" in news.text and "A cheaper Basic plan" in news.text
    assert WHATS_NEW_ITEMS[0]["url"] in news.html
    failing = "tests.support.messages.failing_whats_new"
    with override_settings(GRACEFUL_CANCEL=gc_settings(WHATS_NEW=failing)):
        broken = render_message(case, "winback")
    assert "whats_new" not in find_claims(rendered_text(broken))
    assert "the win-back names no change" in caplog.text


def test_the_winback_can_take_what_is_new_from_a_template(make_customer, catalogue, tmp_path):
    (tmp_path / "news.txt").write_text("{% if reason.slug == 'price' %}Plans from 4.99{% endif %}")
    templates = [{**django_settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    case, _ = services.start_case(make_customer(), language="en")
    services.record_reason(case, "price", contact_consent=True)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    with override_settings(TEMPLATES=templates, GRACEFUL_CANCEL=gc_settings(WHATS_NEW="news.txt")):
        assert "Plans from 4.99" in render_message(case, "winback").text
        other, _ = services.start_case(make_customer(), language="en")
        services.record_reason(other, "quality", contact_consent=True)
        services.confirm_cancellation(other)
        other.refresh_from_db()
        assert "has changed" not in render_message(other, "winback").text


def test_the_last_message_is_only_called_so_when_it_is(make_customer, catalogue):
    steps = [
        {"stage": "confirmation", "days": 0, "channel": "email"},
        {"stage": "winback", "days": 30, "channel": "email", "consent": True},
        {"stage": "check_in", "days": 60, "channel": "email", "consent": True},
    ]
    with override_settings(GRACEFUL_CANCEL=gc_settings(FOLLOWUP_SEQUENCES={"default": steps})):
        case, _ = services.start_case(make_customer(), language="en")
        services.record_reason(case, "price", contact_consent=True)
        services.confirm_cancellation(case)
    case.refresh_from_db()
    winback = FollowUp.objects.get(case=case, stage="winback")
    text = render_message(case, "winback", extra_context={"followup": winback}).text
    assert "last message" not in text
    FollowUp.objects.filter(case=case, stage="check_in").update(status="cancelled")
    text = render_message(case, "winback", extra_context={"followup": winback}).text
    assert "This is the last message we send you about your cancellation." in text


# --- claims are checked in the templates themselves ------------------------------------------


def shipped_message_files() -> list[str]:
    names = [
        str(path.relative_to(TEMPLATES))
        for path in sorted((TEMPLATES / "django_graceful_cancel" / "messages").rglob("*"))
        if path.is_file()
    ]
    return [
        *names,
        "django_graceful_cancel/includes/heard.html",
        "django_graceful_cancel/includes/goodbye.html",
        "django_graceful_cancel/done.html",
    ]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", shipped_message_files())
def test_every_shipped_message_file_makes_claims_only_under_their_condition(name, language):
    assert lint_file(name, language=language) == []


def test_the_linter_finds_claims_in_words_and_variables():
    source = (
        "{% load i18n %}Your feedback goes to the people who set our prices."
        "{% if feedback_routed %}{{ copy.routed }}{% endif %}"
        "{% if not can_reactivate %}{{ say.reactivate }}{% endif %}"
        "{% blocktranslate %}It stays active until {{ date }}.{% endblocktranslate %}"
        "{% if whats_new %}What is new: {{ whats_new }}{% endif %}"
        "{% translate 'Changed your mind? Keep your subscription with one click:' %}"
    )
    found = {(f.claim, f.excerpt) for f in lint_template(source, language="en")}
    assert found == {
        ("feedback_routed", "goes to the people"),
        ("can_reactivate", "say.reactivate"),
        ("access_until", "stays active until"),
        ("can_reactivate", "Keep your subscription"),
    }
    # Spanish words are found in a row written in Spanish.
    spanish = lint_template(
        "Tu respuesta llega a las personas que fijan los precios.", language="es"
    )
    assert [f.claim for f in spanish] == ["feedback_routed"]


# --- copy that staff can check: the admin -----------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_admin_previews_every_stage_of_a_reason(superuser_client, catalogue, language):
    reason = Reason.objects.get(slug="customer-service")
    response = superuser_client.get(
        f"/admin/graceful_cancel/reason/{reason.pk}/messages/", {"language": language}
    )
    assert response.status_code == 200
    html = response.content.decode()
    for stage in STAGES:
        assert f'id="gc-preview-{stage}-' in html, stage
    with translation.override(language):
        say = REASON_COPY["customer-service"]["heard"]
        heard = str(say.formal if formal_register(language) else say.informal)
    assert heard in html.replace("&#x27;", "'")
    assert 'id="gc-conditions"' in html


def test_the_admin_shows_which_reasons_fall_back_to_generic_copy(superuser_client, catalogue):
    Reason.objects.create(slug="moving-abroad", category="other", label="I am moving abroad")
    html = superuser_client.get("/admin/graceful_cancel/reason/messages/").content.decode()
    table = html.split('id="gc-copy-origins"')[1].split("</table>")[0]
    rows = {
        re.search(r"<code>([\w-]+)</code>", row).group(1): row
        for row in table.split("<tr")[1:]
        if "<code>" in row
    }
    assert rows["moving-abroad"].count("gc-origin-generic") == len(STAGES)
    assert "gc-origin-generic" not in rows["price"]
    assert rows["temporary"].count("gc-origin-generic") == 1  # it has nothing to ask in the survey
    assert "gc-origin-none" in rows["business-closed"]  # no win-back at all
    assert "gc-origin-file" not in table  # the shipped per-reason files only extend the frames
    assert (
        "Message copy by reason"
        in superuser_client.get("/admin/graceful_cancel/reason/").content.decode()
    )


def test_the_admin_flags_a_staff_row_that_claims_without_its_condition(superuser_client, catalogue):
    from django_graceful_cancel.models import MessageTemplate

    price = Reason.objects.get(slug="price")
    bare = MessageTemplate.objects.create(
        reason=price,
        stage="thank_you",
        channel="email",
        language="en",
        subject="Thanks",
        body="Your answer goes to the people who set our prices.",
    )
    html = superuser_client.get(
        f"/admin/graceful_cancel/messagetemplate/{bare.pk}/change/"
    ).content.decode()
    assert "is said without its condition: feedback_routed" in html
    overview = superuser_client.get("/admin/graceful_cancel/reason/messages/").content.decode()
    assert f"/admin/graceful_cancel/messagetemplate/{bare.pk}/change/" in overview
    bare.body = (
        "{% if feedback_routed %}Your answer goes to the people who set our prices.{% endif %}"
    )
    bare.save()
    html = superuser_client.get(
        f"/admin/graceful_cancel/messagetemplate/{bare.pk}/change/"
    ).content.decode()
    assert "is said without its condition" not in html
    listing = superuser_client.get("/admin/graceful_cancel/messagetemplate/").content.decode()
    assert "without their condition" not in listing


def test_the_confirmation_invites_more_once_and_an_answered_survey_is_not_asked_again(
    make_customer, catalogue, client
):
    from django_graceful_cancel.followups import outbox

    case, _ = services.start_case(make_customer(), language="en")
    services.record_reason(case, "quality", contact_consent=True)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    context = links_for(case, "email").as_context()
    confirmation = render_message(case, "confirmation", extra_context=context)
    assert "If you would like to tell us more, there are two short questions here:" in (
        confirmation.text
    )
    assert context["survey_url"] in confirmation.text
    assert client.post(context["survey_url"], {"score": "4", "comment": "Slow"}).status_code == 200
    case.refresh_from_db()
    assert (
        "two short questions"
        not in render_message(case, "confirmation", extra_context=context).text
    )
    survey = FollowUp.objects.get(case=case, stage="survey")
    FollowUp.objects.filter(pk=survey.pk).update(due_at=timezone.now())
    assert outbox.send_followup(survey.pk).status == "skipped"
    survey.refresh_from_db()
    assert survey.last_error == "survey already answered"


def test_a_translation_with_a_stray_percent_never_breaks_a_message(make_customer, catalogue):
    from django_graceful_cancel.catalogue.defaults import Say
    from django_graceful_cancel.rendering import Sentences

    sentences = Sentences(
        {"odd": Say("Save 30% today, %(name)s", "x"), "fine": Say("Hi %(name)s", "x")},
        formal=False,
        values={"name": "Alex"},
    )
    assert sentences["odd"] == "Save 30% today, %(name)s"
    assert sentences["fine"] == "Hi Alex"
    assert sentences.get("missing", "") == ""


def test_dates_in_messages_name_their_zone_unless_in_the_customers_own(make_customer, catalogue):
    """Message copy writes dates through dates.format_date, like the pages: a case with no time
    zone of its own gets the zone named after the date."""
    case, _ = services.start_case(make_customer(), language="en")
    services.record_reason(case, "price", contact_consent=True)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    assert not case.time_zone
    text = render_message(case, "thank_you").text
    until = dates.format_date(case.effective_at, case)
    assert until.endswith("(UTC)")
    assert f"stays active until {until}" in text
    case.time_zone = "America/Chicago"
    case.save(update_fields=["time_zone"])
    theirs = dates.format_date(case.effective_at, case)
    assert f"stays active until {theirs}" in render_message(case, "thank_you").text
