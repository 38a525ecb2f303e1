"""The compliance profiles (compliance.py): the shipped ones as data, a site's own, cases from
before 0.2 ("default"), and what each profile does to the flow, the services and the API: us-mn's
offer only after the confirmation and only on request, the statutory labels of de and fr in
English, German and French."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.apps import apps
from django.core.checks import run_checks
from django.dispatch import Signal
from django.template import Context, Template
from django.test import RequestFactory, TestCase
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from django_graceful_cancel import compliance, services, signals
from django_graceful_cancel.choices import CaseStatus, EventKind, OfferOutcome
from django_graceful_cancel.compliance import PROFILES, ComplianceRules, rules_for
from django_graceful_cancel.exceptions import InvalidTransition
from django_graceful_cancel.jurisdiction import parse_jurisdiction
from django_graceful_cancel.models import CancellationCase, OfferPresentation
from django_graceful_cancel.services import flow
from tests.support import flow_settings, gc_settings
from tests.testapp.models import Subscription

pytestmark = pytest.mark.django_db

HEADER = {"JURISDICTION_HEADER": "CF-IPCountry", "JURISDICTION_REGION_HEADER": "CF-Region-Code"}
MINNESOTA = {"CF-IPCountry": "US", "CF-Region-Code": "MN"}

#: The statutory words, by profile and language (BGB § 312k(2); Code de la consommation D215-1).
LABELS = {
    "de": {
        "en": ("Cancel contracts here", "Cancel now"),
        "de": ("Verträge hier kündigen", "jetzt kündigen"),
        "fr": ("Résilier les contrats ici", "Résilier maintenant"),
    },
    "fr": {
        "en": ("Cancel your contract", "Cancel now"),
        "de": ("Vertrag kündigen", "jetzt kündigen"),
        "fr": ("Résilier votre contrat", "Résilier maintenant"),
    },
}


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = flow_settings(**HEADER)


@contextmanager
def capture(signal: Signal) -> Iterator[list[dict[str, Any]]]:
    """The calls ``signal`` makes while the block runs, its on-commit callbacks run at the end."""
    calls: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        calls.append(kwargs)

    signal.connect(receiver)
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            yield calls
    finally:
        signal.disconnect(receiver)


def kinds(case: CancellationCase) -> list[str]:
    """The case's state-change events (pages shown, recorded for the evidence, left out)."""
    events = case.events.exclude(kind="page_shown").order_by("pk")
    return list(events.values_list("kind", flat=True))


def start(customer: Any, code: str | None, **kwargs: Any) -> CancellationCase:
    where = parse_jurisdiction(code, source="header") if code else None
    case, _ = services.start_case(customer, jurisdiction=where, **kwargs)
    return case


def cancelled_minnesota_case(customer: Any, reason: str | None = "price") -> CancellationCase:
    case = start(customer, "US-MN")
    case, presentation = flow.submit_reason(case, flow.check_reason(reason))
    assert presentation is None  # nothing before the confirmation
    return services.confirm_cancellation(case)


# --- profiles as data ----------------------------------------------------------------------------


def test_shipped_profiles_say_what_each_law_allows():
    us, mn, de, fr, eu = (PROFILES[p] for p in ("us", "us-mn", "de", "fr", "eu"))
    assert (us.offers_before_confirm, us.offer_after_confirm, us.survey_first) == (
        True,
        False,
        True,
    )
    assert (mn.offers_before_confirm, mn.offer_after_confirm, mn.winback_offer) == (
        False,
        True,
        False,
    )
    for rules in (de, fr, eu):
        assert not rules.offers_before_confirm and not rules.offer_after_confirm
        assert rules.withdrawal_function and rules.withdrawal_days == 14
    assert de.declaration_page and eu.declaration_page and not fr.declaration_page
    assert (de.withdrawal_login_required, eu.withdrawal_login_required) == (False, False)
    assert de.statutory_labels and fr.statutory_labels and not eu.statutory_labels
    assert fr.max_clicks <= 3 and de.max_clicks <= 3


@pytest.mark.parametrize("profile", ["de", "fr"])
@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_statutory_labels_in_each_language(profile, language):
    with translation.override(language):
        rules = rules_for(profile)
        assert (str(rules.heading), str(rules.confirm_label)) == LABELS[profile][language]


def test_old_default_cases_and_settings_keep_working(settings, customer, catalogue):
    case = start(customer, None)
    CancellationCase.objects.filter(pk=case.pk).update(compliance_profile="default")
    case.refresh_from_db()
    assert rules_for(case.compliance_profile) is PROFILES["us"]
    services.record_reason(case, "price")
    assert services.present_offer(case) is not None  # the us rules: one offer
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="default")
    assert rules_for(None).profile == "us"
    assert "graceful_cancel.E003" not in {m.id for m in run_checks()}


def test_the_migration_renames_default_rows_to_us(customer, catalogue):
    from importlib import import_module

    migration = import_module("django_graceful_cancel.migrations.0006_jurisdiction")
    old = start(customer, None)
    CancellationCase.objects.filter(pk=old.pk).update(compliance_profile="default")
    migration.default_to_us(apps, None)
    assert CancellationCase.objects.get(pk=old.pk).compliance_profile == "us"
    migration.us_to_default(apps, None)
    assert CancellationCase.objects.get(pk=old.pk).compliance_profile == "default"


#: A site's own profile, by dotted path (COMPLIANCE_PROFILES).
QUEBEC = dataclasses.replace(
    PROFILES["us"], profile="ignored", offers_before_confirm=False, legal_reference="LPC art. 11.3"
)


def test_a_site_registers_its_own_profiles(settings, customer, catalogue):
    settings.GRACEFUL_CANCEL = flow_settings(
        COMPLIANCE_PROFILES={
            "ca-qc": "tests.test_compliance_profiles.QUEBEC",
            "gym-eu": {"base": "de", "withdrawal_days": 30, "legal_reference": "house rule"},
        },
        JURISDICTION_PROFILES={"CA-QC": "ca-qc"},
        COMPLIANCE_PROFILE="gym-eu",
    )
    registry = compliance.registry()
    assert registry["ca-qc"].profile == "ca-qc" and not registry["ca-qc"].offers_before_confirm
    gym = registry["gym-eu"]
    assert (gym.withdrawal_days, gym.declaration_page, gym.profile) == (30, True, "gym-eu")
    assert rules_for(None) is not None and rules_for(None).profile == "gym-eu"
    case = start(customer, "CA-QC")
    assert case.compliance_profile == "ca-qc"
    services.record_reason(case, "price")
    assert services.present_offer(case) is None
    assert not {"graceful_cancel.E070", "graceful_cancel.E003"} & {m.id for m in run_checks()}


@pytest.mark.parametrize(
    "profiles",
    [
        ["not a dict"],
        {"acme": {"offers": True}},  # a property, not a field
        {"acme": {"base": "mars"}},
        {"acme": "tests.nowhere.RULES"},
        {"acme": 42},
        {"default": {}},
        {"x" * 40: {}},
    ],
)
def test_bad_site_profiles_are_e070(settings, profiles):
    settings.GRACEFUL_CANCEL = gc_settings(COMPLIANCE_PROFILES=profiles)
    assert "graceful_cancel.E070" in {m.id for m in run_checks()}


def test_an_unknown_fallback_profile_is_e003(settings):
    settings.GRACEFUL_CANCEL = gc_settings(COMPLIANCE_PROFILE="mars")
    assert "graceful_cancel.E003" in {m.id for m in run_checks()}


def test_a_case_keeps_a_profile_the_site_later_removes_by_falling_back(settings, customer):
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILES={"acme": {"base": "fr"}})
    case = start(customer, None, compliance_profile="acme")
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="eu", COMPLIANCE_PROFILES={})
    assert case.compliance_profile == "acme"
    assert rules_for(case.compliance_profile).profile == "eu"


# --- us-mn: no offer before the confirmation; asked for after it ---------------------------------


def test_us_mn_presents_nothing_before_the_confirmation(customer, catalogue):
    case = start(customer, "US-MN")
    services.record_reason(case, "price")
    assert case.compliance_profile == "us-mn"
    assert services.present_offer(case) is None
    assert services.present_offer(case, after_confirmation=True) is None  # still open
    with pytest.raises(InvalidTransition) as refused:
        services.hear_offer(case)
    assert refused.value.code == "case_not_cancelled"
    assert not OfferPresentation.objects.exists()


def test_us_mn_offer_after_yes_and_accepting_reactivates(customer, catalogue):
    case = cancelled_minnesota_case(customer)
    assert case.status == CaseStatus.CANCELLED
    assert services.offer_question_open(case)
    presentation = services.hear_offer(case, actor=customer)
    assert presentation.outcome == OfferOutcome.PRESENTED
    assert services.hear_offer(case) == presentation  # asked again: the same, never a second
    with capture(signals.offer_accepted) as accepted, capture(signals.case_reactivated) as back:
        case = services.accept_offer(case, actor=customer)
    case.refresh_from_db()
    presentation.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED and case.saved_at is not None
    assert presentation.outcome == OfferOutcome.ACCEPTED
    assert len(accepted) == 1 and len(back) == 1
    assert kinds(case)[-3:] == [
        EventKind.REACTIVATED,
        EventKind.OFFER_ACCEPTED,
        EventKind.PROVIDER_SYNCED,
    ]
    assert case.events.get(kind=EventKind.OFFER_ACCEPTED).data["after_confirmation"] is True
    # The provider heard it: the subscription renews again.
    assert Subscription.objects.get(user=customer).cancel_at_period_end is False


def test_us_mn_declining_the_heard_offer_keeps_the_cancellation(customer, catalogue):
    case = cancelled_minnesota_case(customer)
    services.hear_offer(case)
    with capture(signals.offer_declined) as declined:
        case = services.decline_offer(case, actor=customer)
    assert case.status == CaseStatus.CANCELLED
    assert OfferPresentation.objects.get(case=case).outcome == OfferOutcome.DECLINED
    assert len(declined) == 1
    assert not services.offer_question_open(case)  # asked once only


def test_us_mn_asks_nothing_without_an_offer_to_give_or_a_way_back(customer, catalogue):
    no_reason = cancelled_minnesota_case(customer, reason=None)
    assert not services.offer_question_open(no_reason)  # the policy has nothing to say
    with pytest.raises(InvalidTransition) as refused:
        services.hear_offer(no_reason)
    assert refused.value.code == "no_offer"
    CancellationCase.objects.filter(pk=no_reason.pk).update(
        effective_at=timezone.now() - timezone.timedelta(days=1)
    )
    no_reason.refresh_from_db()
    with pytest.raises(InvalidTransition) as closed:
        services.hear_offer(no_reason)
    assert closed.value.code == "offer_not_allowed"


@pytest.mark.parametrize("code", [None, "DE", "FR", "AT"])
def test_other_profiles_never_offer_after_the_confirmation(customer, catalogue, code):
    case = start(customer, code)
    services.record_reason(case, "price")
    services.present_offer(case)  # us shows its one offer here; the others nothing
    case = services.confirm_cancellation(case)
    assert not services.offer_question_open(case)
    with pytest.raises(InvalidTransition):
        services.hear_offer(case)


# --- pages ---------------------------------------------------------------------------------------


def done_url(case: CancellationCase) -> str:
    return reverse("graceful_cancel:done", args=[case.reference])


def test_us_mn_pages_ask_then_offer_then_reactivate(client, customer, catalogue):
    client.force_login(customer)
    start_url = reverse("graceful_cancel:start")
    page = client.get(start_url, headers=MINNESOTA).content.decode()
    assert 'id="gc-continue"' not in page and 'id="gc-accept"' not in page
    client.post(start_url, {"action": "cancel", "reason": "price"}, headers=MINNESOTA)
    case = CancellationCase.objects.get(customer=customer)
    assert (case.status, case.compliance_profile) == (CaseStatus.CANCELLED, "us-mn")
    done = client.get(done_url(case)).content.decode()
    assert "Would you like to hear an offer?" in done
    assert 'id="gc-hear-offer"' in done and 'id="gc-no-offer"' in done
    assert 'id="gc-accept"' not in done  # no offer until the customer says yes
    question = reverse("graceful_cancel:offer_question", args=[case.reference])
    assert client.get(question).status_code == 302  # a GET changes nothing
    assert not OfferPresentation.objects.exists()
    client.post(question, {"answer": "yes"})
    offered = client.get(done_url(case)).content.decode()
    assert 'id="gc-accept"' in offered and "Would you like to hear an offer?" not in offered
    response = client.post(reverse("graceful_cancel:accept", args=[case.reference]))
    assert response["Location"] == reverse("graceful_cancel:reactivate", args=[case.reference])
    case.refresh_from_db()
    assert case.status == CaseStatus.REACTIVATED


def test_us_mn_no_is_as_easy_and_changes_nothing(client, customer, catalogue):
    client.force_login(customer)
    client.post(reverse("graceful_cancel:start"), {"action": "cancel", "reason": "price"},
                headers=MINNESOTA)  # fmt: skip
    case = CancellationCase.objects.get(customer=customer)
    events = kinds(case)
    question = reverse("graceful_cancel:offer_question", args=[case.reference])
    client.post(question, {"answer": "no"})
    page = client.get(done_url(case)).content.decode()
    assert "Would you like to hear an offer?" not in page and 'id="gc-accept"' not in page
    # "No" changes nothing but is recorded, for the evidence record and the analytics.
    assert kinds(case) == [*events, EventKind.OFFER_QUESTION_DECLINED]
    assert not OfferPresentation.objects.exists()
    assert CancellationCase.objects.get(pk=case.pk).status == CaseStatus.CANCELLED


def test_someone_elses_case_is_a_404_on_the_offer_question(client, make_customer, catalogue):
    owner = make_customer("owner")
    case = start(owner, "US-MN")
    services.confirm_cancellation(case)
    client.force_login(make_customer("mallory"))
    question = reverse("graceful_cancel:offer_question", args=[case.reference])
    assert client.post(question, {"answer": "yes"}).status_code == 404


@pytest.mark.parametrize("profile", ["de", "fr"])
@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_de_and_fr_pages_carry_the_statutory_labels(client, customer, catalogue, profile, language):
    client.force_login(customer)
    headers = {"CF-IPCountry": profile.upper(), "Accept-Language": language}
    page = client.get(reverse("graceful_cancel:start"), headers=headers).content.decode()
    entry, confirm = LABELS[profile][language]
    assert f">{entry}<" in page  # the heading, nothing else in it
    assert f'id="gc-cancel-now">{confirm}</button>' in page
    # Every button that sends the cancellation says the same statutory words.
    assert f'id="gc-cancel-with-answers">{confirm}</button>' in page
    assert 'id="gc-continue"' not in page  # no step (and no offer) before the confirmation


def test_de_sends_the_cancellation_with_no_offer_even_with_a_reason(client, customer, catalogue):
    client.force_login(customer)
    response = client.post(
        reverse("graceful_cancel:start"),
        {"action": "continue", "reason": "price"},
        headers={"CF-IPCountry": "DE"},
    )
    case = CancellationCase.objects.get(customer=customer)
    assert response["Location"] == done_url(case)
    assert (case.status, case.compliance_profile, case.reason.slug) == ("cancelled", "de", "price")
    assert not OfferPresentation.objects.exists()


def test_declaration_page_follows_the_visitors_profile(client, settings):
    declare = reverse("graceful_cancel:declare")
    german = client.get(declare, headers={"CF-IPCountry": "DE", "Accept-Language": "de"})
    assert german.status_code == 200
    # § 312k's confirmation page for visitors who are not signed in: the statutory button.
    assert 'id="gc-declare">jetzt kündigen</button>' in german.content.decode()
    assert client.get(declare, headers={"CF-IPCountry": "AT"}).status_code == 200  # eu
    assert client.get(declare, headers={"CF-IPCountry": "US"}).status_code == 404
    assert client.get(declare, headers={"CF-IPCountry": "FR"}).status_code == 404


def test_account_link_label_follows_the_visitor(customer):
    template = Template("{% load graceful_cancel_flow %}{% gc_cancel_label %}")
    for code, language, label in [
        ("DE", "de", "Verträge hier kündigen"),
        ("FR", "fr", "Résilier votre contrat"),
        ("US", "en", "Cancel your subscription"),
    ]:
        request = RequestFactory().get("/", headers={"CF-IPCountry": code})
        request.user = customer
        with translation.override(language):
            assert template.render(Context({"request": request})) == label


# --- API -----------------------------------------------------------------------------------------


def test_us_mn_api_hear_offer_then_accept(customer, catalogue):
    api = APIClient()
    api.force_authenticate(customer)
    body = api.post(reverse("graceful_cancel_api:case-list"), {}, format="json",
                    headers=MINNESOTA).json()  # fmt: skip
    ref = body["reference"]

    def case_url(name: str) -> str:
        return reverse(f"graceful_cancel_api:case-{name}", args=[ref])

    reason = api.post(case_url("reason"), {"reason": "price"}, format="json").json()
    assert reason["offer"] is None and reason["rules"]["offer_after_confirm"] is True
    early = api.post(case_url("hear-offer"), {}, format="json")
    assert early.status_code == 409 and early.json()["code"] == "case_not_cancelled"
    api.post(case_url("confirm"), {}, format="json")
    heard = api.post(case_url("hear-offer"), {}, format="json").json()
    assert heard["status"] == "cancelled" and heard["offer"]["outcome"] == "presented"
    accepted = api.post(case_url("accept-offer"), {}, format="json").json()
    assert accepted["status"] == "reactivated"
    assert accepted["offer"]["outcome"] == "accepted"


def test_api_hear_offer_is_refused_for_a_us_case(customer, catalogue):
    api = APIClient()
    api.force_authenticate(customer)
    ref = api.post(reverse("graceful_cancel_api:case-list"), {}, format="json").json()["reference"]
    api.post(reverse("graceful_cancel_api:case-confirm", args=[ref]), {}, format="json")
    refused = api.post(reverse("graceful_cancel_api:case-hear-offer", args=[ref]), {},
                       format="json")  # fmt: skip
    assert refused.status_code == 409 and refused.json()["code"] == "offer_not_allowed"


def test_rules_type_is_a_frozen_dataclass():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILES["us"].offers_before_confirm = False  # type: ignore[misc]
    assert isinstance(rules_for("us-mn"), ComplianceRules)


# --- follow-ups ----------------------------------------------------------------------------------


class AlwaysWinback:
    """An offer policy whose win-back always carries the first active offer."""

    def choose_offer(self, case: Any, *, arm: Any = None) -> None:
        return None

    def choose_winback_offer(self, case: Any) -> Any:
        from django_graceful_cancel.models import RetentionOffer

        return RetentionOffer.objects.filter(is_active=True).order_by("pk").first()


@pytest.mark.parametrize(("code", "carries_offer"), [("US-MN", False), (None, True), ("DE", True)])
def test_a_win_back_offer_only_where_the_profile_allows_one(
    settings, customer, catalogue, code, carries_offer
):
    from django_graceful_cancel.services.holdout import draw_arm

    settings.GRACEFUL_CANCEL = flow_settings(
        OFFER_POLICY="tests.test_compliance_profiles.AlwaysWinback", WINBACK_HOLDOUT_PERCENT=0
    )
    case = services.confirm_cancellation(start(customer, code))
    assert (draw_arm(case).offer is not None) is carries_offer
