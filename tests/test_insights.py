"""The private classifier and the themes in the customers' words (issue 20, parts 3 and 4).

The accuracy test trains the shipped classifier on the seed set only (the cold start a new site
gets) and reads tests/data/insights_heldout.json, written separately from the seed set.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict
from django.urls import reverse

from django_graceful_cancel import signals
from django_graceful_cancel.choices import EventKind
from django_graceful_cancel.exceptions import InvalidTransition
from django_graceful_cancel.insights import suggestions as insights
from django_graceful_cancel.insights.classifiers import BaseClassifier, Prediction
from django_graceful_cancel.insights.redaction import redact
from django_graceful_cancel.insights.seed_set import UNLEARNT, seed_examples
from django_graceful_cancel.insights.text_model import TextClassifier
from django_graceful_cancel.insights.themes import find_themes, keyword_groups
from django_graceful_cancel.insights.training import train
from django_graceful_cancel.models import (
    CancellationCase,
    CaseEvent,
    Reason,
    Suggestion,
    TrainedClassifier,
)
from django_graceful_cancel.tasks import train_classifier

HELDOUT = Path(__file__).parent / "data" / "insights_heldout.json"
LANGUAGES = ("en", "es", "de", "fr")
SHIPPED = "django_graceful_cancel.insights.text_model.TextClassifier"

# Margins over "always the most frequent root cause" (9 % on the balanced held-out set, where
# 11 root causes occur twice per language). With 22 sentences per language one sentence is
# 4.5 points and the standard error of an accuracy near 55 % is about 11 points: +20 points per
# language is about two standard errors above the baseline, and +30 points over all 88
# sentences (standard error about 5 points) is six. The classifier measures about +45 to +55
# (benchmarks/classifier.py); a broken feature pipeline or label mix-up falls to the baseline.
MARGIN_PER_LANGUAGE = 0.20
MARGIN_OVERALL = 0.30


def heldout() -> list[dict[str, str]]:
    return json.loads(HELDOUT.read_text(encoding="utf-8"))["examples"]


@pytest.fixture
def classifier_on(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = {**settings.GRACEFUL_CANCEL, "INSIGHTS_CLASSIFIER": SHIPPED}


def make_case(text: str, *, reason: str | None = None, root_cause: str | None = None, **kw: Any):
    return CancellationCase.objects.create(
        subscription_ref=f"test:{CancellationCase.objects.count()}",
        reason_detail=text,
        reason=Reason.objects.get(slug=reason) if reason else None,
        root_cause=Reason.objects.get(slug=root_cause) if root_cause else None,
        **kw,
    )


def snapshot() -> list[dict[str, Any]]:
    return [model_to_dict(case) for case in CancellationCase.objects.order_by("pk")]


# --- the seed set and the held-out set ---------------------------------------------------------


def test_seed_set_covers_four_languages_with_catalogue_labels(catalogue):
    seed = seed_examples()
    per_language = Counter(row["language"] for row in seed)
    assert all(per_language[language] >= 40 for language in LANGUAGES), per_language
    slugs = set(Reason.objects.values_list("slug", flat=True))
    assert {row["reason"] for row in seed} | {row["root_cause"] for row in seed} <= slugs
    # Every learnt label has examples in every language.
    for language in LANGUAGES:
        labels = {row["root_cause"] for row in seed if row["language"] == language}
        assert labels == slugs - UNLEARNT, language


def test_heldout_set_shares_no_sentence_with_the_seed_set():
    seed = {row["text"].casefold() for row in seed_examples()}
    examples = heldout()
    assert {row["language"] for row in examples} == set(LANGUAGES)
    assert not seed & {row["text"].casefold() for row in examples}


# --- accuracy against the baseline ------------------------------------------------------------


def test_accuracy_on_the_heldout_set_is_clearly_above_the_most_frequent_root_cause():
    seed = seed_examples()
    classifier = TextClassifier()
    classifier.fit([row["text"] for row in seed], [row["root_cause"] for row in seed])
    labels = sorted({row["root_cause"] for row in seed})
    most_frequent = Counter(row["root_cause"] for row in seed).most_common(1)[0][0]
    examples = heldout()
    predictions = classifier.predict([row["text"] for row in examples], choices=labels)
    assert all(p is not None and 0 < p.confidence <= 1 for p in predictions)

    def score(rows: list[tuple[dict[str, str], Prediction | None]]) -> tuple[float, float]:
        right = sum(p is not None and p.label == row["root_cause"] for row, p in rows)
        base = sum(most_frequent == row["root_cause"] for row, _ in rows)
        return right / len(rows), base / len(rows)

    pairs = list(zip(examples, predictions, strict=True))
    accuracy, baseline = score(pairs)
    assert accuracy >= baseline + MARGIN_OVERALL, (accuracy, baseline)
    for language in LANGUAGES:
        accuracy, baseline = score([pair for pair in pairs if pair[0]["language"] == language])
        assert accuracy >= baseline + MARGIN_PER_LANGUAGE, (language, accuracy, baseline)


def test_the_shipped_classifier_needs_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises ImportError
    with pytest.raises(ImproperlyConfigured, match=r"\[insights\]"):
        TextClassifier()


# --- training and suggesting never change a case ------------------------------------------------


def test_training_on_10000_cases_and_suggesting_leaves_every_case_unchanged(
    catalogue, classifier_on, django_capture_on_commit_callbacks
):
    seed = [row for row in seed_examples() if row["root_cause"] not in UNLEARNT]
    reasons = {reason.slug: reason for reason in Reason.objects.all()}
    cases = []
    for i in range(10_000):
        row = seed[i % len(seed)]
        labelled = i % 2 == 0
        cases.append(
            CancellationCase(
                subscription_ref=f"bulk:{i}",
                # Case numbers keep the 10,000 texts distinct, as real customers' words are.
                reason_detail=f"{row['text']} (#{i})",
                reason=reasons["other"] if i % 3 == 0 else reasons[row["reason"]],
                root_cause=reasons[row["root_cause"]] if labelled else None,
            )
        )
    CancellationCase.objects.bulk_create(cases, batch_size=1000)
    before = snapshot()
    events = CaseEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        runs = train()
        created = insights.suggest(limit=20_000)

    root = next(run for run in runs if run.field == "root_cause")
    assert root.site_examples == 5000
    assert root.examples == 5000 + sum(row["root_cause"] not in UNLEARNT for row in seed_examples())
    assert TrainedClassifier.objects.filter(field="root_cause").count() == 1
    assert created == Suggestion.objects.count() > 0
    assert set(Suggestion.objects.values_list("status", flat=True)) == {"pending"}
    # Root causes are suggested only where staff recorded none, reasons only for "other".
    assert not Suggestion.objects.filter(
        field="root_cause", case__root_cause__isnull=False
    ).exists()
    assert not Suggestion.objects.exclude(field="root_cause").exclude(case__reason__slug="other")
    assert snapshot() == before
    assert CaseEvent.objects.count() == events


def test_the_periodic_task_and_the_command_never_apply_a_suggestion(catalogue, classifier_on):
    make_case("It's far too expensive for what it does.", root_cause="price")
    waiting = make_case("Way too expensive, I can't afford it any more.", reason="other")
    before = snapshot()

    assert train_classifier() >= 1  # retrains, then suggests
    call_command("graceful_cancel_train_classifier", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert snapshot() == before
    assert not CaseEvent.objects.exists()
    assert set(waiting.suggestions.values_list("status", flat=True)) == {"pending"}


def test_only_a_staff_member_can_accept(catalogue, classifier_on, customer):
    train()
    case = make_case("Much too expensive now that the price went up.")
    insights.suggest()
    suggestion = case.suggestions.get(field="root_cause")
    for actor in (None, "system", "celery", customer):
        with pytest.raises(InvalidTransition) as refused:
            insights.accept_suggestion(suggestion, actor=actor)
        assert refused.value.code == "staff_only"
    case.refresh_from_db()
    assert case.root_cause is None
    assert Suggestion.objects.get(pk=suggestion.pk).status == "pending"


# --- staff decisions ----------------------------------------------------------------------------


def listen(signal: Any) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    signal.connect(lambda **kwargs: calls.append(kwargs), weak=False, dispatch_uid="test_insights")
    return calls


@pytest.fixture
def signal_calls() -> Any:
    found = {
        "accepted": listen(signals.suggestion_accepted),
        "rejected": listen(signals.suggestion_rejected),
        "root_cause": listen(signals.root_cause_set),
    }
    yield found
    for signal in (
        signals.suggestion_accepted,
        signals.suggestion_rejected,
        signals.root_cause_set,
    ):
        signal.disconnect(dispatch_uid="test_insights")


def test_accepting_a_root_cause_goes_through_set_root_cause(
    catalogue, classifier_on, staff_user, signal_calls, django_capture_on_commit_callbacks
):
    train()
    case = make_case("The app crashes every time I upload photos.", root_cause_detail="called")
    insights.suggest()
    suggestion = case.suggestions.get(field="root_cause")
    assert suggestion.suggested.slug == "technical-problems"

    with django_capture_on_commit_callbacks(execute=True):
        insights.accept_suggestion(suggestion, actor=staff_user)

    case.refresh_from_db()
    assert case.root_cause.slug == "technical-problems"
    assert case.root_cause_detail == "called"  # staff's notes are kept
    kinds = list(case.events.order_by("pk").values_list("kind", flat=True))
    assert kinds == [EventKind.ROOT_CAUSE_SET, EventKind.SUGGESTION_ACCEPTED]
    event = case.events.get(kind=EventKind.SUGGESTION_ACCEPTED)
    assert event.actor == staff_user
    assert event.data["suggested"] == "technical-problems" and event.data["previous"] is None
    assert [c["suggestion"].pk for c in signal_calls["accepted"]] == [suggestion.pk]
    assert len(signal_calls["root_cause"]) == 1
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by) == ("accepted", staff_user)
    with pytest.raises(InvalidTransition):  # decided once
        insights.reject_suggestion(suggestion, actor=staff_user)


def test_a_reason_is_suggested_and_applied_only_where_the_customer_chose_other_or_none(
    catalogue, classifier_on, staff_user
):
    train()
    chose_other = make_case("I found a cheaper competitor that does the same.", reason="other")
    chose_none = make_case("We are closing the shop for good at the end of the month.")
    chose_price = make_case("I found a cheaper competitor that does the same.", reason="price")
    insights.suggest()
    assert not chose_price.suggestions.filter(field="reason").exists()
    by_none = chose_none.suggestions.get(field="reason")
    assert by_none.suggested.slug == "business-closed"

    insights.accept_suggestion(by_none, actor=staff_user)
    chose_none.refresh_from_db()
    assert chose_none.reason.slug == "business-closed"
    assert chose_none.events.get().data["previous"] is None

    # The customer's own choice is never replaced, even if it changed after the suggestion.
    by_other = chose_other.suggestions.get(field="reason")
    CancellationCase.objects.filter(pk=chose_other.pk).update(
        reason=Reason.objects.get(slug="price")
    )
    with pytest.raises(InvalidTransition) as refused:
        insights.accept_suggestion(by_other, actor=staff_user)
    assert refused.value.code == "reason_already_chosen"
    chose_other.refresh_from_db()
    assert chose_other.reason.slug == "price"


def test_rejecting_records_the_decision_and_changes_nothing(
    catalogue, classifier_on, staff_user, signal_calls, django_capture_on_commit_callbacks
):
    train()
    case = make_case("Support took nine days to answer my ticket.")
    insights.suggest()
    before = snapshot()
    suggestion = case.suggestions.get(field="root_cause")
    with django_capture_on_commit_callbacks(execute=True):
        insights.reject_suggestion(suggestion, actor=staff_user)
    assert snapshot() == before
    assert case.events.get().kind == EventKind.SUGGESTION_REJECTED
    assert len(signal_calls["rejected"]) == 1 and not signal_calls["root_cause"]
    # A rejected suggestion is not asked again after retraining.
    train()
    assert insights.suggest() == 0


def test_acceptance_rate_counts_staff_decisions(catalogue, classifier_on, staff_user):
    train()
    texts = [
        "Too expensive for me now.",
        "The app keeps crashing.",
        "Nobody from support ever replied.",
        "We closed the company.",
    ]
    cases = [make_case(text) for text in texts]
    insights.suggest()
    assert insights.acceptance_rate().rate is None
    first, second, third, _ = (case.suggestions.get(field="root_cause") for case in cases)
    insights.accept_suggestion(first, actor=staff_user)
    insights.accept_suggestion(second, actor=staff_user)
    insights.reject_suggestion(third, actor=staff_user)
    rate = insights.acceptance_rate(field="root_cause")
    assert (rate.accepted, rate.rejected, rate.pending) == (2, 1, 1)
    assert rate.rate == pytest.approx(2 / 3)


def test_the_classifier_off_suggests_nothing(catalogue):
    make_case("Too expensive.")
    assert insights.suggest() == 0
    assert train_classifier() == 0
    with pytest.raises(CommandError, match="off"):
        call_command("graceful_cancel_train_classifier")


class KeywordClassifier(BaseClassifier):
    """A site's own classifier that learns nothing, like a hosted model behind a prompt."""

    trainable = False

    def predict(self, texts, *, choices):
        return [Prediction("price", 0.9) if "price" in text else None for text in texts]


def test_a_site_can_plug_in_its_own_classifier(catalogue, settings):
    settings.GRACEFUL_CANCEL = {
        **settings.GRACEFUL_CANCEL,
        "INSIGHTS_CLASSIFIER": f"{__name__}.KeywordClassifier",
    }
    priced = make_case("The price doubled.")
    make_case("Nothing to say here.")
    assert [run.model for run in train()] == [None, None]
    assert insights.suggest() == 2  # reason and root cause of the first case
    assert {s.case_id for s in Suggestion.objects.all()} == {priced.pk}
    assert Suggestion.objects.first().made_by == f"{__name__}.KeywordClassifier"


# --- themes and redaction -----------------------------------------------------------------------


def test_redaction_removes_contact_details_numbers_and_names():
    text = (
        "Hi, Anna Keller here, mail anna.k@example.org or call +49 151 2345 6789, "
        "see https://example.com/x, order 12345678, plan for 2 users"
    )
    quote = redact(text, ["Anna", "Keller"])
    for secret in ("Anna", "Keller", "anna.k", "151", "example.com", "12345678"):
        assert secret not in quote
    assert quote == (
        "Hi, [name] [name] here, mail [email] or call [phone], see [link], "
        "order [number], plan for 2 users"
    )
    # Prices and years are not personal data.
    assert redact("It went from 19.99 to 24.99 in 2024.") == "It went from 19.99 to 24.99 in 2024."


def _theme_cases(make_customer: Any) -> None:
    bob = make_customer("bob")  # first name "Bob"
    words = {
        "price": ["The price is too high for me, price doubled.", "Price too high, sorry."],
        "crash": ["App crash on every upload, crash again today.", "Constant crash of the app."],
        "team": ["Our team moved to a rival tool.", "Team prefers the rival tool now."],
    }
    for n in range(4):
        for texts in words.values():
            make_case(texts[n % 2] + f" Call Bob on 0151 2345 {n}678.", customer=bob)


@pytest.mark.parametrize("with_sklearn", [True, False])
def test_themes_group_recurring_words_with_redacted_quotes(
    catalogue, make_customer, monkeypatch, with_sklearn
):
    _theme_cases(make_customer)
    if not with_sklearn:
        monkeypatch.setitem(sys.modules, "sklearn", None)
    themes = find_themes(count=3)
    assert sum(theme.cases for theme in themes) == 12
    found = {frozenset(theme.terms) for theme in themes}
    for word in ("price", "crash", "rival"):
        assert any(word in terms for terms in found), found
    for theme in themes:
        assert theme.cases == 4 and theme.share == pytest.approx(1 / 3)
        assert theme.quotes and all("Bob" not in q and "2345" not in q for q in theme.quotes)
        assert all("[name]" in q and "[phone]" in q for q in theme.quotes)


def test_themes_of_a_date_range_read_only_that_range(catalogue, make_customer):
    from datetime import timedelta

    from django.utils import timezone

    _theme_cases(make_customer)
    assert find_themes(start=timezone.now() + timedelta(days=1)) == []


def test_keyword_fallback_is_deterministic():
    texts = ["slow app", "app slow again", "too pricey", "pricey plan", "pricey and slow"]
    assert keyword_groups(texts, 2) == keyword_groups(list(texts), 2)
    # "pricey" covers the most texts; the two left share "app" and "slow" (ties go
    # alphabetically); shortest texts first, as the best quotes.
    assert keyword_groups(texts, 2) == [(["pricey"], [2, 3, 4]), (["app", "slow"], [0, 1])]


# --- the desk -----------------------------------------------------------------------------------


def test_staff_accept_a_suggestion_from_the_desk(catalogue, classifier_on, superuser_client):
    train()
    case = make_case("It's far too expensive since the last price rise.")
    insights.suggest()
    suggestion = case.suggestions.get(field="root_cause")

    page = superuser_client.get(f"/admin/graceful_cancel/cancellationcase/{case.pk}/change/")
    assert page.status_code == 200
    assert "Accept or reject" in page.content.decode()

    listing = superuser_client.get("/admin/graceful_cancel/suggestion/")
    assert "none decided yet" in listing.content.decode()
    response = superuser_client.post(
        "/admin/graceful_cancel/suggestion/",
        {"action": "accept", "_selected_action": [suggestion.pk]},
        follow=True,
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.root_cause == suggestion.suggested
    assert "accepted 1 of 1" in response.content.decode()


# --- the dashboard and the report ---------------------------------------------------------------


def test_the_dashboard_and_the_report_show_the_themes_with_redacted_quotes(
    catalogue, make_customer, superuser_client, settings, tmp_path
):
    settings.GRACEFUL_CANCEL = {**settings.GRACEFUL_CANCEL, "DASHBOARD_CACHE_SECONDS": 0}
    _theme_cases(make_customer)
    page = superuser_client.get(reverse("admin:graceful_cancel_dashboard"))
    html = page.content.decode()
    assert 'id="gc-insights-themes"' in html
    section = html[html.index('id="gc-insights"') :]
    assert "crash" in section and "[phone]" in section
    assert "Bob" not in section and "2345" not in section

    output = tmp_path / "report.csv"
    call_command("graceful_cancel_report", output=str(output))
    theme_rows = [line for line in output.read_text().splitlines() if line.startswith("themes,")]
    cases = [int(line.rsplit(",", 1)[1]) for line in theme_rows if ",cases," in line]
    # Five themes by default: the 12 texts split further than the three topics, all counted.
    assert sum(cases) == 12 and len(cases) == 5
    assert not any("Bob" in line or "2345" in line for line in theme_rows)
