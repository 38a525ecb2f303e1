"""Security, end to end: another customer gets nothing from pages, API or signed links; staff
permissions gate the desk; tampered or expired links do nothing.

Each test takes a snapshot of the victim's data (status, timeline, offer, follow-ups, opt-outs,
survey) before the attack and checks it is unchanged after every attempt.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.followups import links
from django_graceful_cancel.models import CancellationCase, FollowUp, OptOut

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

PAGES = ["offer", "accept", "confirm", "done", "receipt", "saved", "reactivate"]
API_READ = ["case-detail"]
API_WRITE = ["case-reason", "case-accept-offer", "case-decline-offer", "case-confirm"]
API_WRITE += ["case-reactivate"]


def snapshot(case: CancellationCase) -> dict[str, Any]:
    case = CancellationCase.objects.get(pk=case.pk)
    return {
        "status": case.status,
        "reason": case.reason_id,
        "detail": case.reason_detail,
        "survey": (case.survey_score, case.survey_comment),
        "events": list(case.events.values_list("kind", flat=True)),
        "offer": list(
            CancellationCase.objects.filter(pk=case.pk).values_list(
                "offer_presentation__outcome", flat=True
            )
        ),
        "followups": sorted(FollowUp.objects.filter(case=case).values_list("stage", "status")),
        "opt_outs": list(OptOut.objects.filter(customer_id=case.customer_id).values("channel")),
    }


@pytest.fixture
def victim_cases(make_customer, catalogue) -> list[CancellationCase]:
    """Alice's cases in the states an attacker could hope to change: open with an offer shown,
    and cancelled (reactivation, survey and unsubscribe possible)."""
    alice = make_customer("alice")
    open_case, _ = services.start_case(alice)
    services.record_reason(open_case, "price", detail="private words")
    services.present_offer(open_case)
    carol = make_customer("carol")
    cancelled, _ = services.start_case(carol)
    services.record_reason(cancelled, "quality", detail="private too", contact_consent=True)
    services.confirm_cancellation(cancelled)
    return [open_case, cancelled]


def test_another_customer_can_neither_read_nor_act_through_pages_or_api(
    client, make_customer, victim_cases
):
    mallory = make_customer("mallory")
    client.force_login(mallory)
    for case in victim_cases:
        before = snapshot(case)
        for name in PAGES:
            url = reverse(f"graceful_cancel:{name}", args=[case.reference])
            for method in (client.get, client.post):
                response = method(url)
                assert response.status_code == 404, (name, method, response.status_code)
                assert case.reference.encode() not in response.content
        for name in API_READ + API_WRITE:
            url = reverse(f"graceful_cancel_api:{name}", args=[case.reference])
            response = client.post(url, {"reason": "other"}, "application/json")
            if name in API_READ:
                response = client.get(url)
            assert response.status_code == 404, (name, response.status_code)
            assert b"private" not in response.content
        listed = client.get(reverse("graceful_cancel_api:case-list")).content
        assert case.reference.encode() not in listed
        assert snapshot(case) == before


def test_anonymous_visitors_get_nothing(client, victim_cases):
    for case in victim_cases:
        before = snapshot(case)
        for name in PAGES:
            response = client.post(reverse(f"graceful_cancel:{name}", args=[case.reference]))
            assert response.status_code in (302, 403, 404)
            assert response.status_code != 302 or "login" in response["Location"]
        for name in API_WRITE:
            url = reverse(f"graceful_cancel_api:{name}", args=[case.reference])
            assert client.post(url, {}, "application/json").status_code in (401, 403)
        assert snapshot(case) == before


def _forge(purpose: str, payload: dict[str, Any]) -> str:
    """A token signed with the wrong key: what an attacker without SECRET_KEY can make."""
    return signing.dumps(
        payload, key="attacker-guess", salt=f"django_graceful_cancel.links.{purpose}"
    )


def test_tampered_swapped_forged_and_expired_links_do_nothing(client, victim_cases):
    cancelled = victim_cases[1]
    other = victim_cases[0]
    before = snapshot(cancelled)
    real = {p: links.make_token(p, cancelled.pk) for p in links.PURPOSES}
    attempts: list[tuple[str, str, set[int]]] = []
    for purpose, token in real.items():
        head, _, sig = token.rpartition(":")
        attempts += [
            (purpose, head + ":" + sig[:-2] + ("AA" if not sig.endswith("AA") else "BB"), {400}),
            (purpose, token[:-10], {400}),
            (purpose, _forge(purpose, {"c": other.pk}), {400}),
            (purpose, "not-a-token", {400}),
        ]
        # A token made for one purpose never works for another.
        for wrong in set(links.PURPOSES) - {purpose}:
            attempts.append((wrong, token, {400}))
    for purpose, token, expected in attempts:
        url = reverse(f"graceful_cancel:link_{purpose}", args=[token])
        for response in (
            client.get(url),
            client.post(url, {"score": "0", "comment": "pwned", "scope": "all"}),
        ):
            assert response.status_code in expected, (purpose, token, response.status_code)
    # Expired: a real token used after LINK_MAX_AGE_DAYS.
    later = timezone.now() + timedelta(days=61)
    with time_machine.travel(later, tick=False):
        for purpose, token in real.items():
            url = reverse(f"graceful_cancel:link_{purpose}", args=[token])
            assert client.post(url, {"score": "0", "scope": "all"}).status_code == 410
    assert snapshot(cancelled) == before
    # The genuine link still works (the test is not vacuous).
    url = reverse("graceful_cancel:link_survey", args=[real["survey"]])
    assert client.post(url, {"score": "9", "comment": "fine"}).status_code == 200
    assert CancellationCase.objects.get(pk=cancelled.pk).survey_score == 9


def _staff(django_user_model, username: str, *perms: str) -> Any:
    user = django_user_model.objects.create_user(username, password="x", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="graceful_cancel", codename__in=list(perms)
        )
    )
    return user


def test_staff_permissions_are_enforced_in_the_desk(
    client, django_user_model, victim_cases, admin_user
):
    case = victim_cases[1]
    change_url = reverse("admin:graceful_cancel_cancellationcase_change", args=[case.pk])
    list_url = reverse("admin:graceful_cancel_cancellationcase_changelist")
    dashboard = reverse("admin:graceful_cancel_dashboard")
    before = snapshot(case)

    # Staff without the app's permissions: nothing.
    client.force_login(_staff(django_user_model, "intern"))
    for url in (change_url, list_url, dashboard):
        assert client.get(url).status_code == 403, url
    assert client.post(change_url, {"new_note": "x"}).status_code == 403

    # View permission only: reads, but cannot change the case or run change actions.
    client.force_login(_staff(django_user_model, "viewer", "view_cancellationcase"))
    assert client.get(change_url).status_code == 200
    assert client.get(dashboard).status_code == 200
    response = client.post(change_url, {"new_note": "sneaky", "root_cause": "", "owner": ""})
    assert response.status_code == 403
    response = client.post(
        list_url, {"action": "assign_to_me", "_selected_action": [case.pk]}, follow=True
    )
    assert CancellationCase.objects.get(pk=case.pk).owner_id is None
    assert snapshot(case) == before

    # Not staff at all (a customer with a password): the login page, never the desk.
    client.force_login(case.customer)
    response = client.get(change_url)
    assert response.status_code == 302 and "login" in response["Location"]

    # A superuser can act: the permission, not the URL, was what stopped the others.
    client.force_login(admin_user)
    response = client.post(
        list_url, {"action": "assign_to_me", "_selected_action": [case.pk]}, follow=True
    )
    assert response.status_code == 200
    assert CancellationCase.objects.get(pk=case.pk).owner_id == admin_user.pk
