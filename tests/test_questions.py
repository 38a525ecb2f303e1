"""A reason's follow-up questions (issue 20, part 1): rules, recording, pages, API, admin,
privacy, figures and query counts."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from django_graceful_cancel import services, signals
from django_graceful_cancel.choices import CaseStatus, EventKind, QuestionKind
from django_graceful_cancel.exceptions import InvalidInput, InvalidTransition
from django_graceful_cancel.models import (
    CancellationCase,
    CancellationDeclaration,
    QuestionAnswer,
    Reason,
    ReasonQuestion,
)
from django_graceful_cancel.services import flow, questions
from django_graceful_cancel.services.privacy import erase_customer, export_customer_data
from tests.support import flow_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = flow_settings()
    # Throttle counters live in the cache; user ids repeat across tests.
    cache.clear()


@pytest.fixture
def logged_in(client: Any, customer: Any, catalogue: Any) -> Any:
    client.force_login(customer)
    return client


def page(name: str, case: CancellationCase | None = None) -> str:
    return reverse(f"graceful_cancel:{name}", args=[case.reference] if case else [])


def api_url(name: str, reference: str | None = None) -> str:
    return reverse(f"graceful_cancel_api:{name}", args=[reference] if reference else [])


def open_case(customer: Any, reason: str | None = "price", profile: str | None = None) -> Any:
    case, _ = services.start_case(customer)
    if profile:
        CancellationCase.objects.filter(pk=case.pk).update(compliance_profile=profile)
        case.refresh_from_db()
    if reason:
        services.record_reason(case, reason)
        case.refresh_from_db()
    return case


def question(reason: str, key: str) -> ReasonQuestion:
    return ReasonQuestion.objects.get(reason__slug=reason, key=key)


def stored(case: CancellationCase) -> dict[str, Any]:
    return {a.question_key: a.value for a in QuestionAnswer.objects.filter(case=case)}


# --- the input rules -----------------------------------------------------------------------


def test_shipped_questions_are_loaded_with_their_translations(catalogue):
    price = question("price", "price-fit")
    assert price.kind == QuestionKind.CHOICE
    assert price.choice_keys() == ["little-use", "cheaper-elsewhere", "budget"]
    assert dict(price.localized_choices("es"))["budget"] == "Mi presupuesto ha cambiado"
    assert price.localized("prompt", "de") == "Was trifft am ehesten zu?"
    assert question("temporary", "come-back").kind == QuestionKind.LIKELIHOOD
    assert question("competitor", "other-provider").max_length == 100
    assert not ReasonQuestion.objects.filter(reason__slug="no-longer-needed").exists()


def test_valid_answers_are_checked_into_values(catalogue):
    price = Reason.objects.get(slug="price")
    checked = questions.check_answers(price, {"come-back": "7", "price-fit": "budget"})
    # In the question's order, whatever the order sent.
    assert [(a.question.key, a.choice, a.score) for a in checked] == [
        ("price-fit", "budget", None),
        ("come-back", "", 7),
    ]
    assert questions.check_answers(price, {"come-back": 0})[0].score == 0
    assert questions.check_answers(price, {"come-back": 10})[0].score == 10


def test_answers_are_optional(catalogue):
    price = Reason.objects.get(slug="price")
    assert questions.check_answers(price, None) == ()
    assert questions.check_answers(price, {}) == ()
    cleared = questions.check_answers(price, {"price-fit": "", "come-back": None})
    assert all(a.empty for a in cleared)
    answer = flow.check_reason("price")
    assert answer.answers == ()


@pytest.mark.parametrize(
    ("answers", "field", "code"),
    [
        ({"price-fit": "free-please"}, "answers.price-fit", "unknown_choice"),
        ({"price-fit": 3}, "answers.price-fit", "unknown_choice"),
        ({"come-back": 11}, "answers.come-back", "out_of_range"),
        ({"come-back": -1}, "answers.come-back", "out_of_range"),
        ({"come-back": "7.5"}, "answers.come-back", "out_of_range"),
        ({"come-back": "seven"}, "answers.come-back", "out_of_range"),
        ({"come-back": True}, "answers.come-back", "out_of_range"),
        ({"come-back": "٣"}, "answers.come-back", "out_of_range"),
        ({"unknown": "x"}, "answers.unknown", "unknown_question"),
        # Another reason's question is not asked for this one.
        ({"other-provider": "Acme"}, "answers.other-provider", "unknown_question"),
    ],
)
def test_bad_answers_name_their_field(catalogue, answers, field, code):
    price = Reason.objects.get(slug="price")
    with pytest.raises(InvalidInput) as caught:
        questions.check_answers(price, answers)
    assert list(caught.value.errors) == [field]
    assert caught.value.errors[field][0].code == code


def test_every_bad_answer_is_named_at_once_with_the_reason_step(catalogue):
    with pytest.raises(InvalidInput) as caught:
        flow.check_reason("price", detail="x\x00", answers={"price-fit": "nope", "come-back": 99})
    assert set(caught.value.errors) == {"detail", "answers.price-fit", "answers.come-back"}


def test_answers_must_be_an_object(catalogue):
    with pytest.raises(InvalidInput) as caught:
        questions.check_answers(Reason.objects.get(slug="price"), ["budget"])
    assert list(caught.value.errors) == ["answers"]


def test_text_answers_are_bounded_by_the_question(catalogue):
    competitor = Reason.objects.get(slug="competitor")
    ok = questions.check_answers(competitor, {"other-provider": "  " + "a" * 100 + " "})
    assert ok[0].text == "a" * 100
    with pytest.raises(InvalidInput) as caught:
        questions.check_answers(competitor, {"other-provider": "a" * 101})
    error = caught.value.errors["answers.other-provider"][0]
    assert error.code == "max_length" and "100" in str(error.message)
    with pytest.raises(InvalidInput) as caught:
        questions.check_answers(competitor, {"other-provider": "bad\x00"})
    assert caught.value.errors["answers.other-provider"][0].code == "invalid_characters"
    with pytest.raises(InvalidInput):
        questions.check_answers(competitor, {"other-provider": ["a list"]})


def test_an_inactive_question_is_not_asked(catalogue):
    ReasonQuestion.objects.filter(key="come-back").update(is_active=False)
    with pytest.raises(InvalidInput):
        questions.check_answers(Reason.objects.get(slug="price"), {"come-back": 5})


def test_a_question_refuses_choices_it_cannot_ask(catalogue):
    reason = Reason.objects.get(slug="price")
    no_choices = ReasonQuestion(reason=reason, key="x", kind=QuestionKind.CHOICE, prompt="?")
    with pytest.raises(ValidationError) as caught:
        no_choices.full_clean()
    assert "choices" in caught.value.message_dict
    duplicate = ReasonQuestion(
        reason=reason,
        key="y",
        kind=QuestionKind.CHOICE,
        prompt="?",
        choices=[{"key": "a", "label": "A"}, {"key": "a", "label": "B"}],
    )
    with pytest.raises(ValidationError):
        duplicate.full_clean()
    text_with_choices = ReasonQuestion(
        reason=reason, key="z", kind=QuestionKind.TEXT, prompt="?", choices=[{"key": "a"}]
    )
    with pytest.raises(ValidationError):
        text_with_choices.full_clean()
    too_long = ReasonQuestion(
        reason=reason, key="w", kind=QuestionKind.TEXT, prompt="?", max_length=5000
    )
    with pytest.raises(ValidationError):
        too_long.full_clean()


# --- recording -----------------------------------------------------------------------------


def test_answers_are_recorded_one_row_per_question_and_changed_in_place(
    catalogue, customer, django_capture_on_commit_callbacks
):
    case = open_case(customer)
    received: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        received.append(kwargs)

    signals.questions_answered.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            answer = flow.check_reason("price", answers={"price-fit": "budget", "come-back": 3})
            flow.submit_reason(case, answer, actor=customer)
        assert stored(case) == {"price-fit": "budget", "come-back": 3}
        first = QuestionAnswer.objects.get(case=case, question_key="come-back")
        with django_capture_on_commit_callbacks(execute=True):
            answer = flow.check_reason("price", answers={"come-back": 8, "price-fit": ""})
            flow.submit_reason(case, answer, actor=customer)
    finally:
        signals.questions_answered.disconnect(receiver)
    assert stored(case) == {"come-back": 8}
    assert QuestionAnswer.objects.get(case=case, question_key="come-back").pk == first.pk
    events = list(case.events.filter(kind=EventKind.QUESTIONS_ANSWERED).order_by("pk"))
    assert [e.data for e in events] == [
        {"answered": ["price-fit", "come-back"], "cleared": []},
        {"answered": ["come-back"], "cleared": ["price-fit"]},
    ]
    assert len(received) == 2
    assert received[-1]["case"].pk == case.pk
    assert [a.question_key for a in received[-1]["answers"]] == ["come-back"]


def test_the_same_answers_again_change_nothing(catalogue, customer):
    case = open_case(customer)
    answer = flow.check_reason("price", answers={"come-back": 3})
    flow.submit_reason(case, answer)
    flow.submit_reason(case, answer)
    assert case.events.filter(kind=EventKind.QUESTIONS_ANSWERED).count() == 1


def test_the_words_of_a_text_answer_never_go_into_the_timeline(catalogue, customer):
    case = open_case(customer, "competitor")
    answer = flow.check_reason("competitor", answers={"other-provider": "Acme Streaming"})
    flow.submit_reason(case, answer)
    assert stored(case) == {"other-provider": "Acme Streaming"}
    assert "Acme" not in str(list(case.events.values_list("data", flat=True)))


def test_answers_cannot_change_once_the_case_is_closed(catalogue, customer):
    case = open_case(customer)
    services.confirm_cancellation(case)
    checked = questions.check_answers(case.reason, {"come-back": 4})
    with pytest.raises(InvalidTransition):
        questions.record_answers(case, checked)
    assert not QuestionAnswer.objects.filter(case=case).exists()


def test_a_new_reason_drops_the_answers_to_the_old_ones(catalogue, customer):
    case = open_case(customer)
    flow.submit_reason(case, flow.check_reason("price", answers={"come-back": 2}))
    flow.submit_reason(case, flow.check_reason("temporary", answers={"come-back": 9}))
    assert list(
        QuestionAnswer.objects.filter(case=case).values_list("question__reason__slug", "score")
    ) == [("temporary", 9)]


@pytest.mark.parametrize("profile", ["de", "fr", "eu"])
def test_profiles_that_forbid_questions_refuse_answers(catalogue, customer, profile):
    case = open_case(customer, profile=profile)
    assert questions.questions_for(case.reason, case.compliance_profile) == []
    answer = flow.check_reason("price", answers={"come-back": 5})
    with pytest.raises(InvalidInput) as caught:
        flow.submit_reason(case, answer)
    assert caught.value.errors["answers"][0].code == "questions_not_asked"
    assert not QuestionAnswer.objects.filter(case=case).exists()


def test_cancelling_at_once_drops_answers_the_profile_forbids(catalogue, customer):
    case = open_case(customer, reason=None, profile="de")
    answer = flow.check_reason("price", answers={"come-back": 5})
    case = flow.cancel_now(case, answer)
    assert case.status == CaseStatus.CANCELLED
    assert case.reason.slug == "price"
    assert not QuestionAnswer.objects.filter(case=case).exists()


def test_cancelling_at_once_keeps_valid_answers_and_drops_bad_ones(catalogue, customer):
    case = open_case(customer, reason=None)
    kept = flow.lenient_reason({"reason": "price", "answers": {"come-back": "6"}})
    flow.cancel_now(case, kept)
    assert stored(case) == {"come-back": 6}
    dropped = flow.lenient_reason({"reason": "price", "answers": {"come-back": "60"}})
    assert dropped.reason.slug == "price" and dropped.answers == ()


# --- figures -------------------------------------------------------------------------------


def test_answers_by_question_counts_each_answer_of_the_range(catalogue, make_customer):
    answers = [
        ("price", {"price-fit": "budget", "come-back": 2}),
        ("price", {"price-fit": "budget", "come-back": 8}),
        ("price", {"price-fit": "little-use"}),
        ("temporary", {"come-back": 10}),
    ]
    for reason, given in answers:
        case = open_case(make_customer(), reason)
        flow.submit_reason(case, flow.check_reason(reason, answers=given))
    old = open_case(make_customer())
    flow.submit_reason(old, flow.check_reason("price", answers={"come-back": 0}))
    CancellationCase.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    now = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        figures = questions.answers_by_question(now - timedelta(days=1), now + timedelta(days=1))
    assert len(queries) == 1
    by_key = {(f["reason"], f["question"]): f for f in figures}
    assert by_key[("price", "price-fit")]["answers"] == 3
    assert by_key[("price", "price-fit")]["choices"] == {"budget": 2, "little-use": 1}
    come_back = by_key[("price", "come-back")]
    # The 40-day-old case is outside the range.
    assert come_back["answers"] == 2 and come_back["mean"] == 5.0
    assert come_back["scores"][2] == 1 and come_back["scores"][8] == 1
    assert sum(come_back["scores"].values()) == 2
    assert by_key[("temporary", "come-back")]["mean"] == 10.0
    # Through the public services too.
    assert services.answers_by_question(now - timedelta(days=1), now) == figures


# --- the pages -----------------------------------------------------------------------------


def test_offer_page_asks_the_reasons_questions_with_nothing_chosen(logged_in, customer):
    case = open_case(customer)
    html = logged_in.get(page("offer", case)).content.decode()
    assert "Which comes closest?" in html
    assert 'name="question-price-fit" value="budget"' in html
    for score in range(11):
        assert f'name="question-come-back" value="{score}"' in html
    assert not re.search(r'<input[^>]*name="question-[^"]*" value="[^"]+"[^>]*checked', html)
    # The cancel button is there whatever the answers: skipping is one click.
    assert 'id="gc-confirm"' in html or 'id="gc-decline"' in html


def test_offer_page_shows_no_questions_for_a_reason_without_any(logged_in, customer):
    case = open_case(customer, "no-longer-needed")
    html = logged_in.get(page("offer", case)).content.decode()
    assert "question-" not in html
    assert 'id="gc-confirm"' in html


def test_offer_page_asks_nothing_under_a_profile_that_forbids_questions(logged_in, customer):
    case = open_case(customer, profile="de")
    html = logged_in.get(page("offer", case)).content.decode()
    assert "question-come-back" not in html


def test_declaration_and_withdrawal_pages_ask_no_questions(client, catalogue, settings):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="de")
    for name in ("declaration", "withdrawal"):
        try:
            address = reverse(f"graceful_cancel:{name}")
        except Exception:  # noqa: BLE001 - a page this site does not mount asks nothing
            continue
        response = client.get(address)
        assert "question-" not in response.content.decode()
    assert CancellationDeclaration.objects.count() == 0


def test_cancel_needs_no_answer(logged_in, customer):
    case = open_case(customer)
    services.present_offer(case)
    response = logged_in.post(page("confirm", case))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert not QuestionAnswer.objects.filter(case=case).exists()


def test_answers_sent_from_the_page_are_recorded_and_shown_again(logged_in, customer):
    case = open_case(customer)
    CancellationCase.objects.filter(pk=case.pk).update(reason_detail="Too dear")
    response = logged_in.post(
        page("offer", case),
        {
            "detail": "Too dear",
            "question-price-fit": "cheaper-elsewhere",
            "question-come-back": "4",
        },
    )
    assert response.status_code == 302 and "answered=1" in response["Location"]
    assert stored(case) == {"price-fit": "cheaper-elsewhere", "come-back": 4}
    case.refresh_from_db()
    assert case.reason_detail == "Too dear"  # the words stay as they were
    html = logged_in.get(page("offer", case)).content.decode()
    assert re.search(r'name="question-come-back" value="4" checked', html)
    assert re.search(r'name="question-price-fit" value="cheaper-elsewhere" checked', html)
    # "No answer" clears it.
    logged_in.post(
        page("offer", case),
        {"detail": "Too dear", "question-price-fit": "", "question-come-back": "4"},
    )
    assert stored(case) == {"come-back": 4}


def test_a_reason_with_questions_but_no_free_text_question_keeps_the_words(logged_in, customer):
    case = open_case(customer, "temporary")
    CancellationCase.objects.filter(pk=case.pk).update(reason_detail="Travelling")
    html = logged_in.get(page("offer", case)).content.decode()
    assert 'name="detail" value="Travelling"' in html  # sent back unchanged
    logged_in.post(
        page("offer", case), {"detail": "Travelling", "question-break-length": "few-months"}
    )
    case.refresh_from_db()
    assert case.reason_detail == "Travelling"
    assert stored(case) == {"break-length": "few-months"}


def test_a_bad_answer_on_the_page_is_a_400_with_the_cancel_button_still_there(logged_in, customer):
    case = open_case(customer)
    response = logged_in.post(
        page("offer", case), {"question-come-back": "12", "question-price-fit": "budget"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Please give a whole number from 0 to 10." in html
    assert 'id="gc-question-come-back-error"' in html
    assert re.search(r'name="question-price-fit" value="budget" checked', html)  # kept
    assert 'id="gc-confirm"' in html
    assert not QuestionAnswer.objects.filter(case=case).exists()


def test_someone_else_cannot_answer_for_a_case(client, make_customer, catalogue):
    owner, other = make_customer(), make_customer()
    case = open_case(owner)
    client.force_login(other)
    response = client.post(page("offer", case), {"question-come-back": "3"})
    assert response.status_code == 404
    assert not QuestionAnswer.objects.exists()


def _count(client: Any, address: str) -> int:
    client.get(address)  # warm the cached catalogue and the evidence record
    with CaptureQueriesContext(connection) as queries:
        client.get(address)
    return len(queries)


def test_the_offer_page_costs_one_query_more_with_questions_and_none_without(logged_in, customer):
    case = open_case(customer, "price")
    address = page("offer", case)
    asking = _count(logged_in, address)
    ReasonQuestion.objects.filter(reason=case.reason).update(is_active=False)
    not_asking = _count(logged_in, address)
    assert asking == not_asking + 1
    # A reason without questions costs what a site without any question costs.
    CancellationCase.objects.filter(pk=case.pk).update(
        reason=Reason.objects.get(slug="no-longer-needed")
    )
    plain = _count(logged_in, address)
    ReasonQuestion.objects.all().delete()
    assert _count(logged_in, address) == plain == not_asking


def test_the_api_reason_step_costs_one_query_more_with_questions(customer, catalogue):
    client = APIClient()
    client.force_authenticate(customer)

    def step(reason: str) -> int:
        case = api_start(client)
        body = {"reason": reason}
        client.post(api_url("case-reason", case["reference"]), body, format="json")
        with CaptureQueriesContext(connection) as queries:
            response = client.post(api_url("case-reason", case["reference"]), body, format="json")
        assert response.status_code == 200
        return len(queries)

    asking = step("price")
    ReasonQuestion.objects.filter(reason__slug="price").update(is_active=False)
    assert asking == step("price") + 1


# --- the API -------------------------------------------------------------------------------


@pytest.fixture
def alice(customer: Any, catalogue: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(customer)
    return client


def api_start(client: APIClient) -> dict[str, Any]:
    response = client.post(api_url("case-list"), {}, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def test_api_lists_each_reasons_questions_in_the_request_language(alice):
    response = alice.get(api_url("reason-list"), HTTP_ACCEPT_LANGUAGE="es")
    reasons = {r["slug"]: r for r in response.json()}
    price = {q["key"]: q for q in reasons["price"]["questions"]}
    assert price["price-fit"]["kind"] == "choice"
    assert {"key": "budget", "label": "Mi presupuesto ha cambiado"} in price["price-fit"]["choices"]
    assert price["come-back"]["kind"] == "likelihood"
    assert reasons["no-longer-needed"]["questions"] == []


def test_api_reason_step_accepts_answers_and_returns_them(alice, customer):
    case = api_start(alice)
    assert case["rules"]["questions"] is True
    response = alice.post(
        api_url("case-reason", case["reference"]),
        {"reason": "price", "answers": {"price-fit": "budget", "come-back": 9}},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["answers"] == {"price-fit": "budget", "come-back": 9}
    assert stored(CancellationCase.objects.get(reference=case["reference"])) == {
        "price-fit": "budget",
        "come-back": 9,
    }
    detail = alice.get(api_url("case-detail", case["reference"])).json()
    assert detail["answers"] == {"price-fit": "budget", "come-back": 9}


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"come-back": 11}, "answers.come-back"),
        ({"price-fit": "nope"}, "answers.price-fit"),
        ({"nope": 1}, "answers.nope"),
        ("budget", "answers"),
    ],
)
def test_api_bad_answers_are_a_400_naming_the_field(alice, answers, field):
    case = api_start(alice)
    response = alice.post(
        api_url("case-reason", case["reference"]),
        {"reason": "price", "answers": answers},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not QuestionAnswer.objects.exists()
    assert CancellationCase.objects.get(reference=case["reference"]).reason is None


def test_api_answers_under_a_profile_that_forbids_them_are_a_400(alice, customer):
    case = api_start(alice)
    CancellationCase.objects.filter(reference=case["reference"]).update(compliance_profile="de")
    response = alice.post(
        api_url("case-reason", case["reference"]),
        {"reason": "price", "answers": {"come-back": 3}},
        format="json",
    )
    assert response.status_code == 400
    assert "answers" in response.json()


def test_api_schema_documents_the_answers(alice):
    from django_graceful_cancel.api.serializers import RecordReasonSerializer, RulesSerializer

    assert "answers" in RecordReasonSerializer().fields
    assert "questions" in RulesSerializer().fields


# --- admin ---------------------------------------------------------------------------------


def test_staff_edit_questions_inline_on_the_reason(superuser_client, catalogue):
    reason = Reason.objects.get(slug="no-longer-needed")
    address = reverse("admin:graceful_cancel_reason_change", args=[reason.pk])
    html = superuser_client.get(address).content.decode()
    assert "questions-TOTAL_FORMS" in html
    data = {
        "slug": reason.slug,
        "category": reason.category,
        "label": reason.label,
        "follow_up_question": "",
        "offer_allowed": "on",
        "is_active": "on",
        "order": reason.order,
        "translations": "{}",
        "questions-TOTAL_FORMS": "1",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "questions-0-key": "what-now",
        "questions-0-kind": "choice",
        "questions-0-order": "1",
        "questions-0-is_active": "on",
        "questions-0-prompt": "What will you do instead?",
        "questions-0-choices": '[{"key": "nothing", "label": "Nothing"}]',
        "questions-0-max_length": "300",
        "questions-0-translations": '{"es": {"prompt": "¿Qué harás?"}}',
    }
    response = superuser_client.post(address, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    created = ReasonQuestion.objects.get(reason=reason, key="what-now")
    assert created.localized("prompt", "es") == "¿Qué harás?"
    # A choice question without choices is refused by the inline.
    data.update(
        {
            "questions-INITIAL_FORMS": "1",
            "questions-0-id": str(created.pk),
            "questions-0-reason": str(reason.pk),
            "questions-0-choices": "[]",
        }
    )
    response = superuser_client.post(address, data)
    assert response.status_code == 200
    assert "needs at least one choice" in response.content.decode()


def test_staff_see_the_answers_on_the_case(superuser_client, catalogue, customer):
    case = open_case(customer)
    flow.submit_reason(case, flow.check_reason("price", answers={"come-back": 7}))
    address = reverse("admin:graceful_cancel_cancellationcase_change", args=[case.pk])
    html = superuser_client.get(address).content.decode()
    assert "come-back" in html
    assert "follow-up answers" in html.lower()


# --- privacy -------------------------------------------------------------------------------


def test_answers_are_exported_and_their_words_erased(catalogue, customer):
    case = open_case(customer, "competitor")
    answer = flow.check_reason(
        "competitor", answers={"other-provider": "Acme Streaming", "switch-why": "price"}
    )
    flow.submit_reason(case, answer)
    exported = export_customer_data(customer, actor="test")
    answers = {a["question"]: a["answer"] for a in exported["cases"][0]["answers"]}
    assert answers == {"other-provider": "Acme Streaming", "switch-why": "price"}
    erase_customer(customer, actor="test")
    assert stored(case) == {"other-provider": "", "switch-why": "price"}
