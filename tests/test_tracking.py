"""Delivery tracking: real, correctly signed ESP webhook payloads posted to anymail's own views.

Mailgun signs each webhook with HMAC-SHA256 of timestamp + token under the webhook signing key
(ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"]); Postmark authenticates with HTTP basic auth
(ANYMAIL["WEBHOOK_SECRET"], which anymail also requires of Mailgun here). anymail turns the
payloads into tracking signals; our receiver updates the follow-up row and the case timeline.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.core import mail

from django_graceful_cancel import services
from django_graceful_cancel.choices import EventKind, FollowUpStatus
from django_graceful_cancel.followups import outbox as followups
from django_graceful_cancel.models import CancellationCase, DeliveryEvent, FollowUp, OptOut

pytestmark = pytest.mark.django_db

MAILGUN_URL = "/anymail/mailgun/tracking/"
POSTMARK_URL = "/anymail/postmark/tracking/"


def basic_auth() -> dict[str, str]:
    secret = settings.ANYMAIL["WEBHOOK_SECRET"]
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


@pytest.fixture
def sent(customer, catalogue, email_backend) -> FollowUp:
    """A confirmation sent through anymail's test ESP backend (so it carries metadata), to a
    customer who agreed to follow-ups (so the rest of the sequence is scheduled)."""
    email_backend("anymail.backends.test.EmailBackend")
    case, _ = services.start_case(customer)
    services.record_reason(case, None, contact_consent=True)
    services.confirm_cancellation(case)
    row = FollowUp.objects.get(case=case, stage="confirmation")
    assert followups.send_followup(row.pk).status == FollowUpStatus.SENT
    message = mail.outbox[0]
    assert message.anymail_test_params["metadata"]["followup"] == str(row.pk)
    assert message.anymail_test_params["tags"] == ["graceful-cancel", "confirmation"]
    row.refresh_from_db()
    assert row.provider_message_id == "0"  # the test backend's message id
    return row


def timeline(row: FollowUp) -> list[tuple[str, dict[str, Any]]]:
    return [
        (e.kind, e.data)
        for e in row.case.events.filter(
            kind__in=[EventKind.MESSAGE_STATUS, EventKind.OPTED_OUT]
        ).order_by("pk")
    ]


# --- Mailgun ------------------------------------------------------------------------------------


def mailgun_payload(row: FollowUp, event: str, **event_data: Any) -> dict[str, Any]:
    timestamp = str(int(time.time()))
    token = uuid.uuid4().hex
    key = settings.ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"].encode()
    signature = hmac.new(key, f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": event,
            "id": uuid.uuid4().hex[:22],
            "timestamp": time.time(),
            "recipient": row.recipient,
            "tags": ["graceful-cancel", row.stage],
            "user-variables": {
                "followup": str(row.pk),
                "case": row.case.reference,
                "stage": row.stage,
            },
            "message": {"headers": {"message-id": "20261121050000.abc@mg.example.com"}},
            **event_data,
        },
    }


def post_mailgun(client, payload: dict[str, Any]):
    return client.post(
        MAILGUN_URL, data=json.dumps(payload), content_type="application/json", **basic_auth()
    )


def test_mailgun_delivered_then_opened(client, sent):
    assert post_mailgun(client, mailgun_payload(sent, "delivered")).status_code == 200
    sent.refresh_from_db()
    assert sent.status == FollowUpStatus.DELIVERED and sent.delivered_at is not None
    assert post_mailgun(client, mailgun_payload(sent, "opened")).status_code == 200
    sent.refresh_from_db()
    assert sent.status == FollowUpStatus.OPENED and sent.opened_at is not None
    # A late "delivered" never moves the row back.
    post_mailgun(client, mailgun_payload(sent, "delivered"))
    sent.refresh_from_db()
    assert sent.status == FollowUpStatus.OPENED
    assert [(k, d["status"], d["event"]) for k, d in timeline(sent)] == [
        (EventKind.MESSAGE_STATUS, "delivered", "delivered"),
        (EventKind.MESSAGE_STATUS, "opened", "opened"),
    ]
    assert {e.actor_label for e in sent.case.events.filter(kind=EventKind.MESSAGE_STATUS)} == {
        "esp:Mailgun"
    }


def test_mailgun_replayed_event_is_applied_once(client, sent):
    payload = mailgun_payload(sent, "complained")
    assert post_mailgun(client, payload).status_code == 200
    assert post_mailgun(client, payload).status_code == 200
    assert DeliveryEvent.objects.filter(esp_name="Mailgun").count() == 1
    assert OptOut.objects.filter(customer=sent.customer, channel="email").count() == 1
    assert [k for k, _ in timeline(sent)] == [EventKind.OPTED_OUT]


def test_mailgun_hard_bounce_opts_the_channel_out(client, sent):
    payload = mailgun_payload(
        sent,
        "failed",
        severity="permanent",
        reason="bounce",
        **{"delivery-status": {"code": 550, "message": "No such user", "description": ""}},
    )
    assert post_mailgun(client, payload).status_code == 200
    sent.refresh_from_db()
    assert sent.status == FollowUpStatus.BOUNCED
    assert "No such user" in sent.last_error
    opt_out = OptOut.objects.get(customer=sent.customer)
    assert (opt_out.channel, opt_out.source) == ("email", "bounce")
    # The rest of the sequence on that channel is stopped.
    statuses = set(
        FollowUp.objects.filter(case=sent.case).exclude(pk=sent.pk).values_list("status", flat=True)
    )
    assert statuses == {FollowUpStatus.CANCELLED}
    assert [k for k, _ in timeline(sent)] == [EventKind.MESSAGE_STATUS, EventKind.OPTED_OUT]


def test_mailgun_temporary_failure_changes_nothing(client, sent):
    payload = mailgun_payload(sent, "failed", severity="temporary", reason="generic")
    assert post_mailgun(client, payload).status_code == 200
    sent.refresh_from_db()
    assert sent.status == FollowUpStatus.SENT
    assert not OptOut.objects.exists()


def test_mailgun_bad_signature_is_refused(client, sent):
    payload = mailgun_payload(sent, "complained")
    payload["signature"]["signature"] = "0" * 64
    assert post_mailgun(client, payload).status_code == 400
    assert not OptOut.objects.exists()
    sent.refresh_from_db()
    assert sent.status == FollowUpStatus.SENT


# --- Postmark -----------------------------------------------------------------------------------


def post_postmark(client, payload: dict[str, Any], auth: bool = True):
    return client.post(
        POSTMARK_URL,
        data=json.dumps(payload),
        content_type="application/json",
        **(basic_auth() if auth else {}),
    )


def postmark_metadata(row: FollowUp) -> dict[str, str]:
    return {"followup": str(row.pk), "case": row.case.reference, "stage": row.stage}


def test_postmark_delivery_open_and_hard_bounce(client, sent):
    delivery = {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Recipient": sent.recipient,
        "Tag": "confirmation",
        "DeliveredAt": "2026-11-21T05:00:00Z",
        "Details": "Test delivery webhook details",
        "Metadata": postmark_metadata(sent),
    }
    assert post_postmark(client, delivery).status_code == 200
    sent.refresh_from_db()
    assert sent.status == FollowUpStatus.DELIVERED
    opened = {
        "RecordType": "Open",
        "MessageStream": "outbound",
        "FirstOpen": True,
        "Recipient": sent.recipient,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "ReceivedAt": "2026-11-21T05:01:00Z",
        "Tag": "confirmation",
        "UserAgent": "Mozilla/5.0",
        "Metadata": postmark_metadata(sent),
    }
    assert post_postmark(client, opened).status_code == 200
    sent.refresh_from_db()
    assert sent.status == FollowUpStatus.OPENED
    assert [d["status"] for _, d in timeline(sent)] == ["delivered", "opened"]


def test_postmark_events_found_by_message_id(client, sent):
    # As sent through Postmark: the row holds Postmark's MessageID; the event has no metadata.
    FollowUp.objects.filter(pk=sent.pk).update(
        provider_message_id="b7bc2f4a-e38e-4336-af7d-e6c392c2f817"
    )
    bounce = {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "confirmation",
        "MessageID": "b7bc2f4a-e38e-4336-af7d-e6c392c2f817",
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": sent.recipient,
        "From": "hello@example.com",
        "BouncedAt": "2026-11-21T05:02:00Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Your cancellation is confirmed",
    }
    assert post_postmark(client, bounce).status_code == 200
    assert post_postmark(client, bounce).status_code == 200  # replay: same ID
    sent.refresh_from_db()
    assert sent.status == FollowUpStatus.BOUNCED
    assert OptOut.objects.get(customer=sent.customer).source == "bounce"
    assert DeliveryEvent.objects.get().event_id == "4323372036854775807"
    assert [k for k, _ in timeline(sent)] == [EventKind.MESSAGE_STATUS, EventKind.OPTED_OUT]


def test_postmark_spam_complaint_opts_out(client, sent):
    complaint = {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "MessageID": "00000000-0000-0000-0000-000000000000",
        "Email": sent.recipient,
        "BouncedAt": "2026-11-21T05:03:00Z",
        "Metadata": postmark_metadata(sent),
    }
    assert post_postmark(client, complaint).status_code == 200
    assert OptOut.objects.get(customer=sent.customer).source == "complaint"


def test_postmark_without_basic_auth_is_refused(client, sent):
    complaint = {"RecordType": "SpamComplaint", "ID": 43, "Type": "SpamComplaint"}
    assert post_postmark(client, complaint, auth=False).status_code == 400
    assert not OptOut.objects.exists()


def test_events_for_other_messages_are_ignored(client, sent):
    other = {
        "RecordType": "Delivery",
        "MessageID": "not-ours",
        "Recipient": "x@example.com",
        "DeliveredAt": "2026-11-21T05:00:00Z",
        "Metadata": {"order": "123"},
    }
    assert post_postmark(client, other).status_code == 200
    sent.refresh_from_db()
    assert sent.status == FollowUpStatus.SENT
    assert CancellationCase.objects.get().events.filter(kind=EventKind.MESSAGE_STATUS).count() == 0
