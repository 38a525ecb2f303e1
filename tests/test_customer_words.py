"""The right words, the same on every surface (issue 13, item 5 and "Surfaces that disagree").

* The API's ``message`` knows when the subscription ends, as the page does.
* After an immediate cancellation nobody is told "you keep full access until" today.
* Every date and time a customer reads is in their time zone, or names its zone ("Takes
  effect" on the receipt said no zone while "Request received" said UTC).
* The saved page never prints "paused until ." when the backend's result lacks the date.
* The offer page asks the reason's follow-up question, as the API's clients do.
* The survey link page speaks the case's language, not the browser's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from django_graceful_cancel import dates, services
from django_graceful_cancel.choices import CaseStatus, EventKind, OfferOutcome
from django_graceful_cancel.followups.links import make_token
from django_graceful_cancel.models import CancellationCase, OfferPresentation, RetentionOffer
from tests.support import flow_settings
from tests.testapp.models import Subscription

pytestmark = pytest.mark.django_db

#: 10:30 UTC on a day whose period end below falls on another day in New York.
NOW = dt.datetime(2030, 5, 10, 10, 30, tzinfo=dt.UTC)
#: 02:00 UTC on 4 June is still 3 June (22:00 EDT) in New York.
PERIOD_END = dt.datetime(2030, 6, 4, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _settings(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = flow_settings()


@pytest.fixture
def page(client: Any, customer: Any, catalogue: Any) -> Client:
    client.force_login(customer)
    return client


def url(name: str, case: CancellationCase | None = None) -> str:
    return reverse(f"graceful_cancel:{name}", args=[case.reference] if case else [])


def api(path: str = "") -> str:
    return f"/api/cancel/cases/{path}"


def text(response: Any) -> str:
    return " ".join(response.content.decode().split())


def ends_on(customer: Any, when: dt.datetime) -> None:
    Subscription.objects.filter(user=customer).update(current_period_end=when)


# --- the API's message ---------------------------------------------------------------------------


def test_the_api_message_says_when_the_plan_ends(customer, catalogue):
    """Issue 13: the API said "ends today" for a plan that ends at the period end."""
    client = Client()
    client.force_login(customer)
    reference = client.post(api(), {}, content_type="application/json").json()["reference"]
    response = client.post(
        api(f"{reference}/reason/"), {"reason": "price"}, content_type="application/json"
    )
    message = response.json()["message"]
    case = CancellationCase.objects.get(reference=reference)
    with translation.override("en"):
        date = formats.date_format(timezone.localtime(case.period_end), "DATE_FORMAT")
    assert "ends today" not in message
    assert f"stays active until {date}" in message


def test_the_api_message_says_today_for_an_immediate_cancellation(settings, customer, catalogue):
    settings.GRACEFUL_CANCEL = flow_settings(DEFAULT_EFFECTIVE="immediately")
    client = Client()
    client.force_login(customer)
    reference = client.post(api(), {}, content_type="application/json").json()["reference"]
    message = client.get(api(f"{reference}/")).json()["message"]
    assert "plan ends today" in message and "stays active until" not in message


@time_machine.travel(NOW, tick=False)
def test_the_api_message_is_in_the_customers_zone(customer, catalogue):
    ends_on(customer, PERIOD_END)
    client = Client()
    client.force_login(customer)
    response = client.post(
        api(), {"time_zone": "America/New_York"}, content_type="application/json"
    )
    assert "stays active until June 3, 2030 (EDT)." in response.json()["message"]
    assert "June 4" not in response.json()["message"]


# --- the confirmation page and the receipt ----------------------------------------------------


def test_after_an_immediate_cancellation_nobody_keeps_access_until_today(settings, page, customer):
    settings.GRACEFUL_CANCEL = flow_settings(DEFAULT_EFFECTIVE="immediately")
    page.post(url("start"), {"action": "cancel"})
    case = CancellationCase.objects.get(customer=customer)
    done = text(page.get(url("done", case)))
    assert "You keep full access until" not in done
    assert f"Your access ended on {dates.format_date(case.effective_at, case)}" in done


def test_a_cancellation_at_the_period_end_keeps_access_until_then(page, customer):
    page.post(url("start"), {"action": "cancel"})
    case = CancellationCase.objects.get(customer=customer)
    done = text(page.get(url("done", case)))
    assert f"You keep full access until {dates.format_date(case.effective_at)}" in done
    assert "Your access ended" not in done


def test_every_time_on_the_receipt_names_its_zone(page, customer):
    """Issue 13: "Takes effect" had no time zone while "Request received" said UTC."""
    page.post(url("start"), {"action": "cancel"})
    case = CancellationCase.objects.get(customer=customer)
    receipt = page.get(url("receipt", case)).content.decode()
    lines = {line.split(":", 1)[0]: line for line in receipt.splitlines() if ":" in line}
    assert lines["Takes effect"].endswith("(UTC)")
    assert lines["Request received"].endswith("(UTC)")
    done = text(page.get(url("done", case)))
    assert done.count("(UTC)") >= 2


@time_machine.travel(NOW, tick=False)
def test_the_pages_and_the_receipt_speak_the_customers_zone(page, customer):
    ends_on(customer, PERIOD_END)
    page.force_login(customer)  # a session of the travelled-to day
    # flow.js sends the browser's zone with the first form.
    page.post(url("start"), {"action": "cancel", "time_zone": "America/New_York"})
    case = CancellationCase.objects.get(customer=customer)
    assert case.time_zone == "America/New_York"
    done = text(page.get(url("done", case)))
    assert "June 3, 2030, 10 p.m. (EDT)" in done  # takes effect, in New York
    assert "May 10, 2030, 6:30 a.m. (EDT)" in done  # request received
    assert "You keep full access until June 3, 2030 (EDT)." in done
    assert "June 4" not in done and "(UTC)" not in done
    receipt = page.get(url("receipt", case)).content.decode()
    assert "Takes effect: June 3, 2030, 10 p.m. (EDT)" in receipt
    reactivate = text(page.get(url("reactivate", case)))
    assert "is set to end on June 3, 2030 (EDT)." in reactivate


def test_a_zone_the_server_does_not_know_is_ignored(page, customer):
    response = page.post(url("start"), {"action": "cancel", "time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 302
    assert CancellationCase.objects.get(customer=customer).time_zone == ""


def test_the_start_page_names_the_zone_of_its_date(page, customer):
    html = text(page.get(url("start")))
    end = Subscription.objects.get(user=customer).current_period_end
    assert f"keep full access until {dates.format_date(end)}" in html
    assert "(UTC)" in html


# --- the saved page ------------------------------------------------------------------------------


def saved_case(customer: Any, offer_slug: str, applied: dict[str, Any]) -> CancellationCase:
    """A case saved by ``offer_slug`` whose backend returned ``applied``."""
    case, _ = services.start_case(customer)
    now = timezone.now()
    CancellationCase.objects.filter(pk=case.pk).update(
        status=CaseStatus.SAVED, saved_at=now, closed_at=now
    )
    OfferPresentation.objects.create(
        case=case,
        offer=RetentionOffer.objects.get(slug=offer_slug),
        customer=customer,
        outcome=OfferOutcome.ACCEPTED,
        decided_at=now,
        applied=applied,
    )
    return case


@pytest.mark.parametrize(
    ("slug", "applied", "expected"),
    [
        ("pause-2m", {"kind": "pause"}, "Your subscription is paused. Nothing is charged while"),
        ("pause-2m", {}, "Your subscription is paused. Nothing is charged while"),
        ("downgrade-basic", {"kind": "downgrade"}, "You are now on the basic plan."),
    ],
)
def test_the_saved_page_never_prints_an_empty_date(page, customer, slug, applied, expected):
    """Issue 13: "paused until ." when a backend's result lacked the key."""
    case = saved_case(customer, slug, applied)
    html = text(page.get(url("saved", case)))
    assert " ." not in html and "until ." not in html and "the plan" not in html
    assert expected in html


def test_the_saved_page_shows_the_pause_date_in_the_customers_zone(page, customer):
    case = saved_case(customer, "pause-2m", {"paused_until": "2030-06-04T02:00:00+00:00"})
    CancellationCase.objects.filter(pk=case.pk).update(time_zone="America/New_York")
    assert "paused until June 3, 2030 (EDT)." in text(page.get(url("saved", case)))


# --- the filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        (dt.date(2030, 6, 4), "June 4, 2030"),
        ("2030-06-04", "June 4, 2030"),
        ("2030-06-04T02:00:00+00:00", "June 3, 2030 (EDT)"),
        (PERIOD_END, "June 3, 2030 (EDT)"),
        ("not a date", "not a date"),
    ],
)
def test_gc_date_in_the_customers_zone(value, expected):
    case = CancellationCase(time_zone="America/New_York")
    with translation.override("en"):
        rendered = Template("{% load graceful_cancel_flow %}{{ value|gc_date:case }}").render(
            Context({"value": value, "case": case})
        )
    assert rendered == expected


def test_gc_date_and_gc_when_name_the_zone_when_the_customers_is_unknown():
    case = CancellationCase(time_zone="")
    with translation.override("en"), timezone.override(dt.UTC):
        rendered = Template(
            "{% load graceful_cancel_flow %}{{ value|gc_date:case }}|{{ value|gc_when:case }}"
            "|{{ value|gc_when }}"
        ).render(Context({"value": PERIOD_END, "case": case}))
    assert rendered == "June 4, 2030 (UTC)|June 4, 2030, 2 a.m. (UTC)|June 4, 2030, 2 a.m. (UTC)"


def test_gc_date_speaks_the_active_language():
    case = CancellationCase(time_zone="Europe/Madrid")
    with translation.override("es"):
        rendered = Template("{% load graceful_cancel_flow %}{{ value|gc_when:case }}").render(
            Context({"value": PERIOD_END, "case": case})
        )
    assert rendered.startswith("4 de junio de 2030") and rendered.endswith("(CEST)")


# --- surfaces that disagree ----------------------------------------------------------------------


def test_the_offer_page_asks_the_reasons_follow_up_question(page, customer):
    """Issue 13: the catalogue's question per reason was asked by the API only."""
    page.post(url("start"), {"action": "continue", "reason": "price"})
    case = CancellationCase.objects.get(customer=customer)
    html = text(page.get(url("offer", case)))
    assert "What price would feel fair to you?" in html
    assert 'name="detail"' in html


def test_the_offer_page_asks_it_in_the_customers_language(page, customer):
    page.post(url("start"), {"action": "continue", "reason": "price"}, HTTP_ACCEPT_LANGUAGE="es")
    case = CancellationCase.objects.get(customer=customer)
    html = text(page.get(url("offer", case), HTTP_ACCEPT_LANGUAGE="es"))
    assert "¿Qué precio te parecería justo?" in html


def test_answering_the_question_keeps_everything_else(page, customer):
    page.post(
        url("start"),
        {
            "action": "continue",
            "reason": "price",
            "detail": "Too dear",
            "contact_consent": "on",
            "preferred_channel": "email",
        },
    )
    case = CancellationCase.objects.get(customer=customer)
    presentation = OfferPresentation.objects.get(case=case)
    html = text(page.get(url("offer", case)))
    assert "Too dear</textarea>" in html  # what they wrote first is there to extend

    response = page.post(url("offer", case), {"detail": "About 8 euros would be fair"})
    assert response.status_code == 302
    assert response["Location"] == f"{url('offer', case)}?answered=1#gc-question"
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.reason.slug == "price"
    assert case.reason_detail == "About 8 euros would be fair"
    assert case.contact_consent is True and case.preferred_channel == "email"
    assert list(OfferPresentation.objects.filter(case=case)) == [presentation]  # still one
    assert case.events.filter(kind=EventKind.REASON_RECORDED).count() == 2
    assert "Thank you: we have your answer." in text(page.get(response["Location"]))


def test_a_too_long_answer_is_shown_again_with_the_error(page, customer):
    page.post(url("start"), {"action": "continue", "reason": "price"})
    case = CancellationCase.objects.get(customer=customer)
    response = page.post(url("offer", case), {"detail": "x" * 5001})
    assert response.status_code == 400
    assert "at most 5000 characters" in text(response)
    case.refresh_from_db()
    assert case.reason_detail == ""


def test_no_question_no_box(page, customer):
    # Neither a free-text question nor structured follow-up questions (docs/questions.md).
    page.post(url("start"), {"action": "continue", "reason": "no-longer-needed"})
    case = CancellationCase.objects.get(customer=customer)
    assert 'id="gc-question"' not in page.get(url("offer", case)).content.decode()


def test_the_survey_link_page_speaks_the_cases_language(customer, catalogue):
    """Issue 13: it rendered in the browser's language, not the case's."""
    case, _ = services.start_case(customer, language="es")
    services.confirm_cancellation(case)
    link = reverse("graceful_cancel:link_survey", args=[make_token("survey", case.pk)])
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert "¿Qué tal lo hicimos?" in browser.get(link).content.decode()
    response = browser.post(link, {"score": "eleven"})
    assert response.status_code == 400
    assert "Elige una puntuación de 0 a 10." in response.content.decode()
