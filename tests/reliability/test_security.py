"""Security, end to end: another customer gets nothing from pages, API or signed links; staff
permissions gate the desk; tampered or expired links do nothing; the eu profile's no-login
declaration page lets no stranger cancel, learn about or write to anyone (issue 14).

Each test takes a snapshot of the victim's data (status, timeline, offer, follow-ups, opt-outs,
survey) before the attack and checks it is unchanged after every attempt.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import CaseStatus, DeclarationStatus, EventKind
from django_graceful_cancel.exceptions import InvalidTransition
from django_graceful_cancel.followups import links
from django_graceful_cancel.models import (
    CancellationCase,
    CancellationDeclaration,
    FollowUp,
    OptOut,
)
from django_graceful_cancel.services.declarations import CONFIRM_SALT, confirmation_token
from tests.support import flow_settings

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


# --- The eu profile's no-login declaration page, as an attacker (issue 14) -----------------------

DECLARE = "/account/cancel/declare/"


@pytest.fixture
def eu(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = flow_settings(COMPLIANCE_PROFILE="eu", SITE_URL="https://shop.test")


def _declare(client: Any, ip: str = "203.0.113.66", **fields: Any) -> Any:
    data = {"name": "Mallory", "email": "mallory@evil.test", "termination": "ordinary"}
    data.update(fields)
    return client.post(DECLARE, data, REMOTE_ADDR=ip)


def _subscription(customer: Any) -> tuple[str, bool, bool]:
    from tests.testapp.models import Subscription

    sub = Subscription.objects.get(user=customer)
    return sub.status, sub.cancel_at_period_end, sub.canceled_at is not None


ACTIVE = ("active", False, False)


def test_a_username_with_another_email_cancels_nothing_and_goes_to_staff(
    client, eu, customer, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _declare(client, contract="alice")
        _declare(client, contract="ALICE", termination="extraordinary", extraordinary_reason="x")
    assert response.status_code == 302
    assert not CancellationCase.objects.exists()
    assert _subscription(customer) == ACTIVE
    for declaration in CancellationDeclaration.objects.all():
        assert declaration.status == DeclarationStatus.RECORDED  # the staff's list
        assert declaration.customer is None and declaration.case is None
    # The account holder is not written to; the sender learns nothing about the account.
    assert {m.to[0] for m in mail.outbox} == {"mallory@evil.test"}
    assert not any("Standard" in m.body or "alice" in m.body for m in mail.outbox)


def test_a_strangers_extraordinary_termination_waits_for_the_holder_or_staff(
    client, eu, customer, catalogue, django_capture_on_commit_callbacks, admin_user
):
    """Mallory types Alice's own address: recorded and acknowledged, never effective by itself."""
    with django_capture_on_commit_callbacks(execute=True):
        response = _declare(
            client,
            email="alice@example.com",
            termination="extraordinary",
            extraordinary_reason="Fraud!",
        )
    declaration = CancellationDeclaration.objects.get()
    assert declaration.status == DeclarationStatus.PENDING
    assert not CancellationCase.objects.exists()
    assert _subscription(customer) == ACTIVE
    # The confirmation link goes only to the account's own address, never to the page.
    page = client.get(response["Location"]).content.decode()
    assert "/declare/confirm/" not in page
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    link = next(line for line in message.body.splitlines() if "/declare/confirm/" in line)
    real = link.removeprefix("https://shop.test/account/cancel/declare/confirm/").rstrip("/")

    # Forged, tampered, other-purpose and expired links change nothing.
    url = reverse("graceful_cancel:declaration_confirm", args=["x"])[: -len("x/")]
    forged = signing.dumps({"d": declaration.pk}, key="attacker-guess", salt=CONFIRM_SALT)
    reactivate = links.make_token("reactivate", 1)
    head, _, sig = real.rpartition(":")
    for token in [forged, real[:-4], head + ":" + sig[::-1], reactivate, "nope"]:
        assert client.post(f"{url}{token}/").status_code == 400, token
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        assert client.post(f"{url}{real}/").status_code == 410
    assert CancellationDeclaration.objects.get().status == DeclarationStatus.PENDING
    assert not CancellationCase.objects.exists()

    # Staff who checked with Alice apply it from the admin: now it takes effect.
    client.force_login(admin_user)
    changelist = reverse("admin:graceful_cancel_cancellationdeclaration_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            changelist, {"action": "apply_declarations", "_selected_action": [declaration.pk]}
        )
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.MATCHED
    assert declaration.case.effective_mode == "immediately"
    assert _subscription(customer)[0] == "canceled"
    # The holder's link is single-use: once applied it changes nothing more.
    client.logout()
    assert client.post(f"{url}{real}/").status_code == 200
    assert CancellationCase.objects.count() == 1


def test_staff_without_the_change_permission_cannot_apply_a_declaration(
    client, eu, customer, catalogue, django_user_model
):
    _declare(
        client, email="alice@example.com", termination="extraordinary", extraordinary_reason="x"
    )
    declaration = CancellationDeclaration.objects.get()
    client.force_login(_staff(django_user_model, "viewer", "view_cancellationdeclaration"))
    changelist = reverse("admin:graceful_cancel_cancellationdeclaration_changelist")
    assert client.get(changelist).status_code == 200
    client.post(changelist, {"action": "apply_declarations", "_selected_action": [declaration.pk]})
    assert CancellationDeclaration.objects.get().status == DeclarationStatus.PENDING
    assert not CancellationCase.objects.exists()


def _normalised(html: str, declaration: CancellationDeclaration) -> str:
    for secret, placeholder in [
        (declaration.reference, "REFERENCE"),
        (declaration.access_token, "TOKEN"),
        (declaration.email, "EMAIL"),
    ]:
        html = html.replace(secret, placeholder)
    return html


@pytest.mark.parametrize("termination", ["ordinary", "extraordinary"])
def test_the_answer_is_the_same_whether_or_not_an_account_matches(
    client, eu, customer, catalogue, termination
):
    """Enumeration by content: the redirect and the acknowledgement page differ only in what was
    typed and in the reference (a match would otherwise leak the plan and the end date)."""
    pages = {}
    at = timezone.now().replace(microsecond=0)
    for email in ["alice@example.com", "nobody@example.com", "ALICE@EXAMPLE.COM"]:
        with time_machine.travel(at, tick=False):
            response = _declare(
                client,
                email=email,
                contract="alice",
                termination=termination,
                extraordinary_reason="Because",
            )
        declaration = CancellationDeclaration.objects.get(email=email)
        assert response.status_code == 302
        assert response.content == b""
        assert response["Location"] == declaration.acknowledgement_path
        headers = {k: v for k, v in response.headers.items() if k != "Location"}
        page = client.get(response["Location"])
        pages[email] = (headers, page.status_code, _normalised(page.content.decode(), declaration))
    assert pages["alice@example.com"] == pages["nobody@example.com"] == pages["ALICE@EXAMPLE.COM"]
    assert "Standard" not in pages["alice@example.com"][2]  # the plan is not shown
    # Not vacuous: one of them did match an account.
    matched = CancellationDeclaration.objects.get(email="alice@example.com")
    assert matched.customer == customer
    assert CancellationDeclaration.objects.get(email="nobody@example.com").customer is None


def test_the_answer_is_sent_before_anything_is_looked_up(rf, eu, customer, catalogue, monkeypatch):
    """Enumeration by timing: the page runs the same queries whether or not an account matches,
    and asks the subscription backend (and the mail server) only after its answer went out."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.signals import request_finished
    from django.db import close_old_connections, connection
    from django.test.utils import CaptureQueriesContext

    from django_graceful_cancel.backends.model import ModelSubscriptionBackend
    from django_graceful_cancel.views import declare

    lookups: list[str] = []
    original = ModelSubscriptionBackend.get_active_subscription

    def spy(self: Any, user: Any) -> Any:
        lookups.append(user.username)
        return original(self, user)

    monkeypatch.setattr(ModelSubscriptionBackend, "get_active_subscription", spy)
    counts: dict[str, list[str]] = {}
    looked_up: dict[str, list[str]] = {}
    for email in ["alice@example.com", "nobody@example.com"]:
        request = rf.post(
            DECLARE,
            {"name": "M", "email": email, "termination": "ordinary"},
            REMOTE_ADDR=f"198.51.100.{len(counts) + 1}",
        )
        request.session = SessionStore()
        lookups.clear()
        with CaptureQueriesContext(connection) as queries:
            response = declare(request)
        assert response.status_code == 302
        counts[email] = [q["sql"].split(" ")[0] for q in queries.captured_queries]
        assert lookups == [] and mail.outbox == []  # nothing before the answer
        # What the server does once the answer has been sent (without closing the test's
        # database connection, as Django's test client does too).
        request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            request_finished.connect(close_old_connections)
        looked_up[email] = list(lookups)
    assert counts["alice@example.com"] == counts["nobody@example.com"]
    assert "alice" in looked_up["alice@example.com"] and looked_up["nobody@example.com"] == []
    alice = CancellationDeclaration.objects.get(email="alice@example.com")
    assert alice.status == DeclarationStatus.MATCHED


def test_no_attacker_text_is_relayed_to_an_address_without_an_account(
    client, eu, customer, catalogue, django_capture_on_commit_callbacks
):
    """Relay: a stranger makes the site write to any address; only their name goes along."""
    payload = "Your account is hacked, call +1 555 0100 or visit https://evil.test/login"
    with django_capture_on_commit_callbacks(execute=True):
        _declare(
            client,
            name="Mallory",
            email="victim@elsewhere.test",
            contract=payload,
            termination="extraordinary",
            extraordinary_reason=payload,
        )
    [message] = mail.outbox
    assert message.to == ["victim@elsewhere.test"]
    text = message.subject + message.body
    assert "Mallory" in text and "evil" not in text and "555" not in text
    # Nor a link to a page of ours that would show the text.
    declaration = CancellationDeclaration.objects.get()
    assert declaration.access_token not in text and declaration.dispute_token not in text


def test_mail_to_one_address_is_rate_limited(
    client, settings, customer, catalogue, django_capture_on_commit_callbacks
):
    settings.GRACEFUL_CANCEL = flow_settings(
        COMPLIANCE_PROFILE="eu", DECLARATION_RATE_LIMIT=10, DECLARATION_MAIL_LIMIT=3
    )
    for n in range(5):  # five senders, one target
        with django_capture_on_commit_callbacks(execute=True):
            assert _declare(client, ip=f"192.0.2.{n}", email="victim@elsewhere.test").status_code
    assert CancellationDeclaration.objects.count() == 5  # every declaration is kept
    assert len(mail.outbox) == 3
    skipped = CancellationDeclaration.objects.filter(acknowledged_at__isnull=True)
    assert skipped.count() == 2
    assert all("too many" in d.staff_note for d in skipped)
    # Another address is not affected.
    with django_capture_on_commit_callbacks(execute=True):
        _declare(client, ip="192.0.2.99", email="other@elsewhere.test")
    assert mail.outbox[-1].to == ["other@elsewhere.test"]


@pytest.mark.parametrize("how", ["holder", "staff"])
def test_this_was_not_me_undoes_an_immediate_cancellation(
    client, eu, customer, catalogue, django_capture_on_commit_callbacks, admin_user, how
):
    with django_capture_on_commit_callbacks(execute=True):
        _declare(
            client, email="alice@example.com", termination="extraordinary", extraordinary_reason="x"
        )
    declaration = CancellationDeclaration.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        if how == "holder":
            services.confirm_declaration(declaration)
        else:
            services.confirm_declaration(declaration, actor=admin_user)
    declaration.refresh_from_db()
    case = declaration.case
    assert case.status == CaseStatus.CANCELLED and not case.can_reactivate  # already in effect
    assert _subscription(customer)[0] == "canceled"
    later = timezone.now() + timedelta(days=3)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert client.post(declaration.dispute_path).status_code == 200
    case.refresh_from_db()
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.DISPUTED
    assert case.status == CaseStatus.REACTIVATED
    assert case.events.filter(kind=EventKind.REACTIVATED, actor_label="account holder").exists()
    assert _subscription(customer) == ACTIVE  # through the backend


def test_this_was_not_me_undoes_an_ordinary_cancellation_after_the_period_end(
    client, eu, customer, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _declare(client, email="alice@example.com")
    declaration = CancellationDeclaration.objects.get()
    assert declaration.status == DeclarationStatus.MATCHED
    after_the_end = timezone.now() + timedelta(days=40)
    with (
        time_machine.travel(after_the_end, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(declaration.dispute_path)
    declaration.case.refresh_from_db()
    assert declaration.case.status == CaseStatus.REACTIVATED
    assert _subscription(customer) == ACTIVE


def test_a_disputed_declaration_can_no_longer_be_confirmed(
    client, eu, customer, catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _declare(
            client, email="alice@example.com", termination="extraordinary", extraordinary_reason="x"
        )
    declaration = CancellationDeclaration.objects.get()
    client.post(declaration.dispute_path)
    path = reverse("graceful_cancel:declaration_confirm", args=[confirmation_token(declaration)])
    assert client.post(path).status_code == 200
    assert CancellationDeclaration.objects.get().status == DeclarationStatus.DISPUTED
    assert not CancellationCase.objects.exists()
    with pytest.raises(InvalidTransition):
        services.confirm_declaration(declaration)


PROXY = "10.0.0.2"  # the one reverse proxy every request comes through


def test_the_rate_limit_keys_on_the_client_address_behind_a_proxy(client, settings, catalogue):
    settings.GRACEFUL_CANCEL = flow_settings(
        COMPLIANCE_PROFILE="eu", DECLARATION_RATE_LIMIT=2, CLIENT_IP={"proxy_count": 1}
    )

    def declare_via_proxy(client_address: str, forged: str = "") -> int:
        chain = f"{forged}, {client_address}" if forged else client_address
        data = {
            "name": "N",
            "email": f"{client_address}-{forged}@x.test",
            "termination": "ordinary",
        }
        return client.post(DECLARE, data, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=chain).status_code

    assert declare_via_proxy("198.51.100.1") == 302
    # A forged left-most address does not give the same client a fresh limit.
    assert declare_via_proxy("198.51.100.1", forged="192.0.2.77") == 302
    assert declare_via_proxy("198.51.100.1", forged="192.0.2.78") == 429
    # Every other visitor behind the same proxy still gets through.
    assert declare_via_proxy("198.51.100.2") == 302
    assert declare_via_proxy("198.51.100.3") == 302


def test_the_api_throttle_keys_on_the_same_client_address(rf, settings):
    from rest_framework.request import Request

    from django_graceful_cancel.api.throttling import WriteRateThrottle

    settings.GRACEFUL_CANCEL = flow_settings(CLIENT_IP={"proxy_count": 1})
    request = Request(
        rf.post("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.77, 198.51.100.1")
    )
    assert WriteRateThrottle().get_ident(request) == "198.51.100.1"
