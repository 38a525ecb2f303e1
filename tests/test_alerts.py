"""Staff alerts (issue 18): rules in settings, a Slack message through a (local, fake) incoming
webhook and email to the case's owner, sent through the outbound outbox after the commit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction

from django_graceful_cancel import services
from django_graceful_cancel.alerts import rules
from django_graceful_cancel.alerts.channels import SlackAlertChannel, get_alert_channel
from django_graceful_cancel.choices import DeliveryStatus, EventKind
from django_graceful_cancel.conf import app_settings
from django_graceful_cancel.models import CancellationCase, OutboundDelivery, RetentionOffer
from django_graceful_cancel.services.core import record
from django_graceful_cancel.webhooks import outbox
from tests.support import gc_settings
from tests.support.http import LocalEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def slack() -> Iterator[LocalEndpoint]:
    """Slack's incoming webhook, faked on 127.0.0.1."""
    with LocalEndpoint() as server:
        yield server


def alert_settings(**keys: Any) -> dict[str, Any]:
    return gc_settings(WEBHOOK_DISPATCH="sweep", FOLLOWUP_DISPATCH="sweep", **keys)


@pytest.fixture
def high_value(settings: Any, slack: LocalEndpoint) -> None:
    settings.GRACEFUL_CANCEL = alert_settings(
        ALERT_RULES={
            "high_value_cancellation": {
                "channels": ["slack", "owner_email"],
                "min_monthly_value": 12,
            }
        },
        ALERT_SLACK_WEBHOOK_URL=slack.url,
    )


def cancel(customer: Any, *, owner: Any = None) -> CancellationCase:
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    if owner is not None:
        services.assign_owner(case, owner, actor=owner)
    return services.confirm_cancellation(case)


def slack_messages(server: LocalEndpoint) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in server.accepted()]


# --- Slack --------------------------------------------------------------------------------------


def test_a_high_value_cancellation_posts_to_slack_with_a_link_to_the_case(
    high_value, slack, make_customer, staff_user, catalogue
):
    case = cancel(make_customer("alice", plan="standard"), owner=staff_user)  # 12.99 a month
    assert slack.requests == []  # nothing leaves in the transaction
    assert outbox.sweep_deliveries() == 2

    (message,) = slack_messages(slack)
    admin_url = f"http://testserver/admin/graceful_cancel/cancellationcase/{case.pk}/change/"
    assert message["text"].startswith("High-value cancellation: ")
    assert case.reference in message["text"] and "12.99 EUR a month" in message["text"]
    assert f"<{admin_url}|Open the case>" in message["text"]
    section, actions = message["blocks"]
    assert section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"].startswith("*High-value cancellation*\n")
    assert "Reason: It costs too much for what I get." in section["text"]["text"]
    assert "at or above the alert threshold of 12 a month" in section["text"]["text"]
    assert actions["elements"][0]["url"] == admin_url
    assert "alice" not in json.dumps(message)  # no customer name or address in Slack
    assert slack.requests[0].headers["content-type"] == "application/json"

    (email,) = mail.outbox
    assert email.to == ["sam@example.com"]
    assert email.subject == "[Test Streaming] Alert: High-value cancellation"
    assert case.reference in email.body and admin_url in email.body
    rows = OutboundDelivery.objects.filter(case=case, event_type="high_value_cancellation")
    assert sorted(rows.values_list("channel", "status")) == [
        ("owner_email", DeliveryStatus.DELIVERED),
        ("slack", DeliveryStatus.DELIVERED),
    ]


def test_a_cancellation_below_the_threshold_alerts_nobody(
    high_value, slack, make_customer, catalogue
):
    cancel(make_customer("basic", plan="basic"))  # 7.99 a month
    assert not OutboundDelivery.objects.exists()
    outbox.sweep_deliveries()
    assert slack.requests == [] and mail.outbox == []


def test_no_rule_no_alert(settings, slack, customer, catalogue):
    settings.GRACEFUL_CANCEL = alert_settings(ALERT_SLACK_WEBHOOK_URL=slack.url)
    cancel(customer)
    assert not OutboundDelivery.objects.exists()


def test_a_rolled_back_cancellation_alerts_nobody(high_value, customer, catalogue):
    case, _ = services.start_case(customer)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.confirm_cancellation(case)
        assert OutboundDelivery.objects.filter(channel="slack").exists()
        raise RuntimeError("rolled back")
    assert not OutboundDelivery.objects.exists()


def test_slack_text_is_escaped(high_value, slack, make_customer, catalogue):
    case = cancel(make_customer())
    assert case.reference
    row = OutboundDelivery.objects.get(channel="slack")
    row.payload = {**row.payload, "plan": "Gold <b> & <!channel>"}
    row.save(update_fields=["payload"])
    outbox.sweep_deliveries()
    (message,) = slack_messages(slack)
    assert "Gold &lt;b&gt; &amp; &lt;!channel&gt;" in message["text"]
    assert "<!channel>" not in json.dumps(message)


def test_slack_refusing_the_message_fails_at_once_and_a_slack_outage_is_retried(
    high_value, slack, make_customer, catalogue
):
    slack.answers = [404]  # channel_not_found: retrying changes nothing
    cancel(make_customer("first"))
    outbox.sweep_deliveries()
    refused = OutboundDelivery.objects.get(channel="slack")
    assert (refused.status, refused.response_code, refused.attempts) == (
        DeliveryStatus.FAILED,
        404,
        1,
    )
    slack.answers = [503]
    cancel(make_customer("second"))
    outbox.sweep_deliveries()
    down = OutboundDelivery.objects.filter(channel="slack").latest("pk")
    assert (down.status, down.response_code) == (DeliveryStatus.PENDING, 503)


def test_slack_without_its_url_fails_the_delivery_and_the_check(settings, customer, catalogue):
    settings.GRACEFUL_CANCEL = alert_settings(
        ALERT_RULES={"high_value_cancellation": {"channels": ["slack"], "min_monthly_value": 0}}
    )
    cancel(customer)
    outbox.sweep_deliveries()
    row = OutboundDelivery.objects.get()
    assert row.status == DeliveryStatus.FAILED
    assert "ALERT_SLACK_WEBHOOK_URL" in row.last_error
    assert "graceful_cancel.E007" in check_ids()


# --- email to the owner -------------------------------------------------------------------------


def test_an_alert_about_a_case_nobody_owns_goes_to_the_managers_or_is_skipped(
    settings, make_customer, catalogue
):
    rule = {"high_value_cancellation": {"channels": ["owner_email"], "min_monthly_value": 0}}
    settings.GRACEFUL_CANCEL = alert_settings(ALERT_RULES=rule)
    cancel(make_customer("first"))
    outbox.sweep_deliveries()
    skipped = OutboundDelivery.objects.get()
    assert skipped.status == DeliveryStatus.SKIPPED and mail.outbox == []
    assert "no owner" in skipped.last_error

    settings.MANAGERS = [("Retention team", "retention@example.com")]
    cancel(make_customer("second"))
    outbox.sweep_deliveries()
    assert [m.to for m in mail.outbox] == [["retention@example.com"]]


def test_an_email_failure_is_retried(settings, email_backend, make_customer, staff_user, catalogue):
    settings.GRACEFUL_CANCEL = alert_settings(
        ALERT_RULES={
            "high_value_cancellation": {"channels": ["owner_email"], "min_monthly_value": 0}
        }
    )
    email_backend("tests.test_alerts.BrokenMail")
    cancel(make_customer(), owner=staff_user)
    outbox.sweep_deliveries()
    row = OutboundDelivery.objects.get()
    assert row.status == DeliveryStatus.PENDING and "ESP is down" in row.last_error


class BrokenMail:
    """A mail backend whose ESP is down."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise ConnectionError("ESP is down")


# --- the other rules ----------------------------------------------------------------------------


def test_a_call_requested_alert_for_a_consultation_offer_and_for_a_phone_follow_up(
    settings, slack, customer, catalogue
):
    settings.GRACEFUL_CANCEL = alert_settings(
        ALERT_RULES={"call_requested": ["slack"]}, ALERT_SLACK_WEBHOOK_URL=slack.url
    )
    case, _ = services.start_case(customer)
    consultation = RetentionOffer.objects.filter(kind="consultation").first()
    assert consultation is not None
    record(case, EventKind.OFFER_ACCEPTED, data={"offer": consultation.slug})
    record(case, EventKind.OFFER_ACCEPTED, data={"offer": "no-such-offer"})
    record(case, EventKind.MESSAGE_SENT, data={"channel": "phone", "stage": "thank_you"})
    record(case, EventKind.MESSAGE_SENT, data={"channel": "email", "stage": "thank_you"})
    outbox.sweep_deliveries()
    texts = [m["text"] for m in slack_messages(slack)]
    assert len(texts) == 2
    assert "accepted a consultation call" in texts[0]
    assert "A phone follow-up (thank_you) is waiting in the call list" in texts[1]


def test_a_provider_sync_needing_attention_alerts_once(settings, slack, customer, catalogue):
    settings.GRACEFUL_CANCEL = alert_settings(
        ALERT_RULES={"provider_sync_attention": ["slack"]}, ALERT_SLACK_WEBHOOK_URL=slack.url
    )
    case, _ = services.start_case(customer)
    limit = app_settings.PROVIDER_SYNC_MAX_ATTEMPTS
    for attempts in (limit - 1, limit, limit + 1):
        record(
            case,
            EventKind.PROVIDER_SYNC_FAILED,
            data={"attempts": attempts, "needs_attention": attempts >= limit, "error": "HTTP 502"},
        )
    outbox.sweep_deliveries()
    (message,) = slack_messages(slack)
    assert f"failed {limit} times: HTTP 502" in message["text"]


def test_a_disputed_declaration_alerts(settings, slack, make_customer, catalogue):
    settings.GRACEFUL_CANCEL = alert_settings(
        COMPLIANCE_PROFILE="eu",
        ALERT_RULES={"declaration_disputed": ["slack"]},
        ALERT_SLACK_WEBHOOK_URL=slack.url,
    )
    make_customer("dora")
    declaration = services.declare_cancellation(
        name="Dora Declarant", email="dora@example.com", contract="dora"
    )
    assert not OutboundDelivery.objects.exists()
    services.dispute_declaration(declaration)
    outbox.sweep_deliveries()
    (message,) = slack_messages(slack)
    assert message["text"].startswith("A cancellation declaration was disputed")
    assert declaration.reference in message["text"]
    assert "Dora" not in json.dumps(message)


def test_rules_read_only_the_events_they_need():
    assert set(EventKind.values) >= rules.KINDS
    assert set(rules.RULES) == {
        "high_value_cancellation",
        "call_requested",
        "declaration_disputed",
        "provider_sync_attention",
    }


def test_a_channel_of_the_sites_own(settings, customer, catalogue):
    settings.GRACEFUL_CANCEL = alert_settings(
        ALERT_CHANNELS={"pager": "tests.test_alerts.Pager"},
        ALERT_RULES={"high_value_cancellation": {"channels": ["pager"], "min_monthly_value": 0}},
    )
    Pager.sent = []
    case = cancel(customer)
    outbox.sweep_deliveries()
    assert Pager.sent == [("high_value_cancellation", case.reference)]
    assert isinstance(get_alert_channel("slack"), SlackAlertChannel)


class Pager(SlackAlertChannel):
    sent: list[tuple[str, str]] = []
    options: dict[str, Any] = {}

    def send(self, delivery: OutboundDelivery, *, timeout: float) -> Any:
        from django_graceful_cancel.alerts.channels import AlertResult

        Pager.sent.append((delivery.event_type, delivery.payload["reference"]))
        return AlertResult(DeliveryStatus.DELIVERED)


# --- the system checks --------------------------------------------------------------------------


def check_ids() -> list[str]:
    """The ids of the app's errors (not its warnings: those are other settings' business)."""
    from django.core import checks

    return [
        m.id
        for m in checks.run_checks()
        if m.id and m.id.startswith("graceful_cancel.") and m.is_serious()
    ]


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"WEBHOOK_PERSONAL_DATA": "everything"}, "graceful_cancel.E003"),
        ({"WEBHOOK_DISPATCH": "carrier-pigeon"}, "graceful_cancel.E003"),
        ({"WEBHOOK_DISPATCH": "no.such.Dispatcher"}, "graceful_cancel.E004"),
        ({"WEBHOOK_MAX_ATTEMPTS": 0}, "graceful_cancel.E003"),
        ({"ALERT_RULES": {"big_churn": ["slack"]}}, "graceful_cancel.E003"),
        ({"ALERT_RULES": {"call_requested": "slack"}}, "graceful_cancel.E003"),
        ({"ALERT_RULES": {"call_requested": ["pigeon"]}}, "graceful_cancel.E003"),
        (
            {
                "ALERT_RULES": {
                    "high_value_cancellation": {"channels": [], "min_monthly_value": "x"}
                }
            },
            "graceful_cancel.E003",
        ),
        ({"ALERT_RULES": {"call_requested": ["slack"]}}, "graceful_cancel.E007"),
        ({"ALERT_CHANNELS": {"pager": "no.such.Channel"}}, "graceful_cancel.E004"),
        ({"ALERT_SLACK_WEBHOOK_URL": "hooks.slack.com/x"}, "graceful_cancel.E003"),
    ],
)
def test_the_checks_report_bad_outbound_settings(settings, keys, expected):
    settings.GRACEFUL_CANCEL = gc_settings(**keys)
    assert expected in check_ids()


def test_good_outbound_settings_pass_the_checks(settings):
    settings.GRACEFUL_CANCEL = gc_settings(
        WEBHOOK_DISPATCH="inline",
        WEBHOOK_PERSONAL_DATA="contact",
        ALERT_RULES={
            "high_value_cancellation": {
                "channels": ["slack", "owner_email"],
                "min_monthly_value": 50,
            },
            "call_requested": ["owner_email"],
        },
        ALERT_SLACK_WEBHOOK_URL="https://hooks.slack.com/services/T0/B0/x",
    )
    assert check_ids() == []


def test_the_sweep_command_sends_alerts(high_value, slack, make_customer, catalogue):
    cancel(make_customer())
    call_command("graceful_cancel_send_webhooks", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert len(slack.accepted()) == 1
