"""The evidence record per case (issue 16, part 4): content, admin views, command, retention."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.checks import Tags, run_checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import CaseStatus, EventKind, FollowUpStatus
from django_graceful_cancel.followups import actions
from django_graceful_cancel.followups import outbox as followups
from django_graceful_cancel.models import (
    CancellationCase,
    CaseEvent,
    EvidenceRecord,
    FollowUp,
    OptOut,
    PrivacyRequest,
    Withdrawal,
)
from django_graceful_cancel.rendering import RenderedMessage
from django_graceful_cancel.services import evidence
from tests.support import flow_settings, gc_settings
from tests.testapp.models import Subscription

pytestmark = pytest.mark.django_db

MAILGUN_URL = "/anymail/mailgun/tracking/"


@pytest.fixture(autouse=True)
def _inline_confirmations(settings: Any) -> None:
    settings.GRACEFUL_CANCEL = flow_settings()


def flow_url(name: str, case: CancellationCase | None = None) -> str:
    return reverse(f"graceful_cancel:{name}", args=[case.reference] if case else [])


def mailgun_delivered(row: FollowUp) -> dict[str, Any]:
    """A correctly signed Mailgun "delivered" webhook for ``row`` (as in test_tracking)."""
    timestamp = str(int(time.time()))
    token = uuid.uuid4().hex
    key = django_settings.ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"].encode()
    signature = hmac.new(key, f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": "delivered",
            "id": uuid.uuid4().hex[:22],
            "timestamp": time.time(),
            "recipient": row.recipient,
            "tags": ["graceful-cancel", row.stage],
            "user-variables": {"followup": str(row.pk), "case": row.case.reference},
            "message": {"headers": {"message-id": "20261129.evidence@mg.example.com"}},
        },
    }


def post_webhook(client: Any, payload: dict[str, Any]) -> Any:
    secret = django_settings.ANYMAIL["WEBHOOK_SECRET"]
    auth = "Basic " + base64.b64encode(secret.encode()).decode()
    return client.post(
        MAILGUN_URL, data=json.dumps(payload), content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )  # fmt: skip


@pytest.fixture
def walked(client, customer, catalogue, email_backend) -> CancellationCase:
    """Alice's whole flow in the browser's place: a reason with consent, the offer page, the
    offer declined by cancelling, the confirmation sent (through anymail's test backend) and
    delivered (a signed Mailgun webhook), the done page; then she opts out by the link."""
    email_backend("anymail.backends.test.EmailBackend")
    client.force_login(customer)
    response = client.post(
        flow_url("start"),
        {
            "action": "continue",
            "reason": "price",
            "detail": "Too dear for me now",
            "preferred_channel": "email",
            "contact_consent": "on",
        },
    )
    case = CancellationCase.objects.get(customer=customer)
    assert response["Location"] == flow_url("offer", case)
    assert client.get(flow_url("offer", case)).status_code == 200
    assert client.post(flow_url("confirm", case)).status_code == 302
    row = FollowUp.objects.get(case=case, stage="confirmation")
    # The test database never commits, so the inline dispatcher's on-commit send is done here.
    assert followups.send_followup(row.pk).status == FollowUpStatus.SENT
    row.refresh_from_db()
    assert client.get(flow_url("done", case)).status_code == 200
    client.logout()
    assert post_webhook(client, mailgun_delivered(row)).status_code == 200
    actions.opt_out(customer, channel="", source="link", actor=customer)
    return CancellationCase.objects.get(pk=case.pk)


def confirm_and_send(case: CancellationCase) -> None:
    services.confirm_cancellation(case)
    row = FollowUp.objects.get(case=case, stage="confirmation")
    assert followups.send_followup(row.pk).status == FollowUpStatus.SENT


# --- the record's content ----------------------------------------------------------------------


def test_the_record_of_a_full_flow(walked, customer):
    record = evidence.build_record(walked)
    assert record["format"] == evidence.FORMAT and record["source"] == "live"
    assert record["case"]["reference"] == walked.reference
    assert record["case"]["status"] == CaseStatus.CANCELLED
    assert record["case"]["customer"]["email"] == "alice@example.com"
    assert record["compliance_profile"]["code"] == walked.compliance_profile
    assert record["jurisdiction"] == (getattr(walked, "jurisdiction", "") or "")
    assert record["reason"]["slug"] == "price"
    assert record["reason"]["in_customer_words"] == "Too dear for me now"

    # Every page shown and button pressed, in order, with timestamps.
    kinds = [e["kind"] for e in record["timeline"]]
    assert kinds.index(EventKind.STARTED) < kinds.index(EventKind.OFFER_PRESENTED)
    assert kinds.index(EventKind.OFFER_PRESENTED) < kinds.index(EventKind.PAGE_SHOWN)
    assert kinds.index(EventKind.OFFER_DECLINED) < kinds.index(EventKind.CANCELLED)
    assert [p["page"] for p in record["pages_shown"]] == ["offer", "done"]
    assert all(e["at"].endswith("Z") for e in record["timeline"])  # UTC, said so
    assert record["time_zone"] == "UTC"
    assert not any("body" in e["data"] for e in record["timeline"])  # the text is in "offer"

    # The offer as the customer saw it: the page's message, rendered.
    offer = record["offer"]
    assert offer["outcome"] == "declined" and offer["decided_at"]
    assert offer["title"]
    shown = CaseEvent.objects.get(case=walked, kind=EventKind.PAGE_SHOWN, data__page="offer")
    assert offer["html_shown"] == shown.data["body"]
    assert offer["text_shown"] and "<" not in offer["text_shown"]

    # The confirmation exactly as sent, and its delivery reported by the ESP.
    sent_mail = mail.outbox[0]
    ack = record["acknowledgement"]
    assert ack["as_sent"]["subject"] == sent_mail.subject
    assert ack["as_sent"]["text"] == sent_mail.body
    assert ack["delivery"]["status"] == FollowUpStatus.DELIVERED
    assert ack["delivery"]["delivered_at"]
    assert [t["event"] for t in ack["delivery"]["tracking"]] == ["delivered"]
    assert ack["delivery"]["tracking"][0]["provider"] == "Mailgun"

    # Consent given with the reason, then withdrawn by the opt-out link.
    changes = record["consents"]["changes"]
    assert [(c["change"], c.get("source", "")) for c in changes] == [
        ("given", ""),
        ("withdrawn", "link"),
    ]
    assert record["consents"]["opt_outs"] == [
        {"channel": "all", "source": "link", "at": record["consents"]["opt_outs"][0]["at"]}
    ]
    assert record["retention"]["days"] == 1095
    json.dumps(record)  # JSON-ready as it is


def test_the_confirmation_is_kept_as_sent(walked):
    row = EvidenceRecord.objects.get(case=walked)
    assert row.reference == walked.reference and row.customer_id == walked.customer_id
    assert row.confirmation["stage"] == "confirmation"
    assert row.confirmation["subject"] == mail.outbox[0].subject
    assert row.retain_until == walked.closed_at + timedelta(days=1095)
    # The whole record is not rebuilt per message: it is live while the case exists, and the
    # purge snapshots it (test_the_purge_keeps_the_record_for_its_retention_period).
    assert row.snapshot == {} and row.snapshot_at is None
    assert evidence.record_of(row)["case"]["reference"] == walked.reference


def test_keeping_the_confirmation_is_one_statement(customer, catalogue):
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case)
    row = FollowUp.objects.get(case=case, stage="confirmation")
    rendered = RenderedMessage(subject="Done", text="Cancelled.", html="", source="email/x")
    with CaptureQueriesContext(connection) as first:
        evidence.confirmation_sent(row, rendered, case=case)
    # One statement, plus the savepoint that keeps a failure from undoing the send.
    assert len([q for q in first if "SAVEPOINT" not in q["sql"]]) == 1
    again = RenderedMessage(subject="Again", text="Cancelled.", html="", source="email/x")
    evidence.confirmation_sent(row, again, case=case)  # a resend updates the same row
    kept = EvidenceRecord.objects.get(case=case)
    assert kept.confirmation["subject"] == "Again" and kept.reference == case.reference


def test_a_direct_status_change_shows_in_the_delivery_status(customer, catalogue):
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case)
    row = FollowUp.objects.get(case=case, stage="confirmation")
    assert followups.send_followup(row.pk).status == FollowUpStatus.SENT
    assert evidence.build_record(case)["acknowledgement"]["delivery"]["status"] == "sent"
    FollowUp.objects.filter(pk=row.pk).update(status=FollowUpStatus.BOUNCED, last_error="550")
    delivery = evidence.build_record(case)["acknowledgement"]["delivery"]
    assert (delivery["status"], delivery["error"]) == ("bounced", "550")


def test_other_stages_are_not_kept_as_the_acknowledgement(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, None, contact_consent=True)
    services.confirm_cancellation(case)
    thank_you = FollowUp.objects.get(case=case, stage="thank_you")
    FollowUp.objects.filter(pk=thank_you.pk).update(due_at=timezone.now())
    EvidenceRecord.objects.filter(case=case).delete()
    FollowUp.objects.filter(pk=thank_you.pk).update(status=FollowUpStatus.SENDING)
    followups.deliver(thank_you.pk)
    assert not EvidenceRecord.objects.filter(case=case).exists()


def test_a_page_is_recorded_once_a_minute_without_request_data(client, customer, catalogue):
    client.force_login(customer)
    client.post(flow_url("start"), {"action": "continue", "reason": "price"})
    case = CancellationCase.objects.get(customer=customer)
    for _ in range(3):
        assert client.get(flow_url("offer", case), REMOTE_ADDR="203.0.113.9").status_code == 200
    shown = CaseEvent.objects.filter(case=case, kind=EventKind.PAGE_SHOWN)
    assert shown.count() == 1
    event = shown.get()
    assert set(event.data) == {"page", "language", "body"}
    assert "203.0.113.9" not in json.dumps(event.data)
    assert event.actor_id == customer.pk
    # A minute later the same page counts again.
    shown.update(created_at=timezone.now() - timedelta(seconds=61))
    client.get(flow_url("offer", case))
    assert CaseEvent.objects.filter(case=case, kind=EventKind.PAGE_SHOWN).count() == 2


def test_someone_elses_page_records_nothing(client, make_customer, customer, catalogue):
    case, _ = services.start_case(customer)
    client.force_login(make_customer("mallory"))
    assert client.get(flow_url("offer", case)).status_code == 404
    assert not CaseEvent.objects.filter(kind=EventKind.PAGE_SHOWN).exists()


def test_building_a_record_costs_the_same_queries_however_long(
    customer, catalogue, django_assert_num_queries
):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price", contact_consent=True)
    services.present_offer(case)
    services.confirm_cancellation(case)
    with django_assert_num_queries(9):  # the case, then eight for its parts
        short = evidence.build_record(case)
    for page in ("a", "b", "c", "d", "e", "f"):
        evidence.page_shown(case, page)
    with django_assert_num_queries(9):
        long = evidence.build_record(case)
    assert len(long["timeline"]) == len(short["timeline"]) + 6


# --- admin -------------------------------------------------------------------------------------


def test_staff_download_the_json_and_it_is_recorded(walked, superuser_client, superuser):
    url = reverse("admin:graceful_cancel_evidence_json", args=[walked.pk])
    response = superuser_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert f"evidence-{walked.reference}.json" in response["Content-Disposition"]
    record = json.loads(response.content)
    assert record["case"]["reference"] == walked.reference
    exported = CaseEvent.objects.get(case=walked, kind=EventKind.EVIDENCE_EXPORTED)
    assert (exported.actor_id, exported.actor_label) == (superuser.pk, "staff:boss")
    assert exported.data == {"format": "json"}


def test_the_case_page_links_to_the_evidence(walked, superuser_client):
    page = superuser_client.get(
        reverse("admin:graceful_cancel_cancellationcase_change", args=[walked.pk])
    )
    assert reverse("admin:graceful_cancel_evidence", args=[walked.pk]) in page.text
    assert reverse("admin:graceful_cancel_evidence_json", args=[walked.pk]) in page.text


def test_the_printable_page_renders(walked, superuser_client):
    response = superuser_client.get(reverse("admin:graceful_cancel_evidence", args=[walked.pk]))
    assert response.status_code == 200
    html = response.text
    assert walked.reference in html and "@media print" in html
    assert mail.outbox[0].subject in html
    assert "Too dear for me now" in html
    assert " UTC" in html  # every date says its zone
    assert "withdrawn" in html and "Mailgun" in html
    exported = CaseEvent.objects.get(case=walked, kind=EventKind.EVIDENCE_EXPORTED)
    assert exported.data == {"format": "html"}


def test_the_evidence_needs_the_view_permission(walked, client, django_user_model):
    json_url = reverse("admin:graceful_cancel_evidence_json", args=[walked.pk])
    page_url = reverse("admin:graceful_cancel_evidence", args=[walked.pk])
    # Not staff: the admin's login page, nothing exported.
    client.force_login(walked.customer)
    assert client.get(json_url).status_code == 302
    # Staff without the permission: forbidden.
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(clerk)
    assert client.get(json_url).status_code == 403
    assert client.get(page_url).status_code == 403
    assert not CaseEvent.objects.filter(kind=EventKind.EVIDENCE_EXPORTED).exists()
    # The view permission on cases is enough.
    clerk.user_permissions.add(Permission.objects.get(codename="view_cancellationcase"))
    client.force_login(django_user_model.objects.get(pk=clerk.pk))
    assert client.get(json_url).status_code == 200
    assert client.get(page_url).status_code == 200


def test_an_unknown_case_is_a_404(superuser_client):
    url = reverse("admin:graceful_cancel_evidence_json", args=[999999])
    assert superuser_client.get(url).status_code == 404


# --- the export command ------------------------------------------------------------------------


def cases_started_on(make_customer: Any, *days: str) -> list[CancellationCase]:
    found = []
    for day in days:
        case, _ = services.start_case(make_customer())
        services.confirm_cancellation(case)
        started = timezone.make_aware(timezone.datetime.fromisoformat(f"{day}T12:00:00"))
        CancellationCase.objects.filter(pk=case.pk).update(created_at=started)
        found.append(case)
    return found


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("graceful_cancel_export_evidence", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_exports_a_date_range_as_json_lines(make_customer, catalogue):
    _early, inside, last_day, _late = cases_started_on(
        make_customer, "2026-01-05", "2026-02-10", "2026-02-28", "2026-03-01"
    )
    lines = export("--since", "2026-02-01", "--until", "2026-02-28").splitlines()
    assert [json.loads(line)["case"]["reference"] for line in lines] == [
        inside.reference,
        last_day.reference,
    ]
    assert CaseEvent.objects.filter(kind=EventKind.EVIDENCE_EXPORTED).count() == 2
    assert set(
        CaseEvent.objects.filter(kind=EventKind.EVIDENCE_EXPORTED).values_list(
            "actor_label", flat=True
        )
    ) == {"command:export_evidence"}


def test_the_command_writes_a_json_array_to_a_file(make_customer, catalogue, tmp_path: Path):
    cases = cases_started_on(make_customer, "2026-02-02", "2026-02-03", "2026-02-04")
    target = tmp_path / "evidence.json"
    export(
        "--since", "2026-02-01", "--until", "2026-02-28", "--format", "json",
        "--output", str(target), "--chunk-size", "2",
    )  # fmt: skip
    records = json.loads(target.read_text(encoding="utf-8"))
    assert [r["case"]["reference"] for r in records] == [c.reference for c in cases]
    empty = export("--since", "2030-01-01", "--until", "2030-01-31", "--format", "json")
    assert json.loads(empty) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "yesterday"], "--since must be a date"),
        (["--since", "2026-02-30"], "--since must be a date"),
        (["--since", "2026-02-01", "--until", "2026-13-01"], "--until must be a date"),
        (["--since", "2026-02-10", "--until", "2026-02-01"], "--until must come after"),
        (["--since", "2026-02-01", "--chunk-size", "0"], "--chunk-size must be 1"),
    ],
)
def test_the_command_refuses_bad_input(args, message, db):
    with pytest.raises(CommandError, match=message):
        export(*args)


def test_the_command_says_when_it_cannot_write(db, tmp_path: Path):
    with pytest.raises(CommandError, match="Cannot write"):
        export("--since", "2026-01-01", "--output", str(tmp_path / "missing" / "x.json"))


# --- retention and erasure ---------------------------------------------------------------------


def age(case: CancellationCase, days: int) -> None:
    when = timezone.now() - timedelta(days=days)
    CancellationCase.objects.filter(pk=case.pk).update(
        created_at=when, closed_at=when, cancelled_at=when
    )


def test_the_purge_keeps_the_record_for_its_retention_period(walked, make_customer, catalogue):
    age(walked, 800)
    expired_case, _ = services.start_case(make_customer("bob"))
    confirm_and_send(expired_case)
    age(expired_case, 1200)  # closed longer ago than the 1095 days kept
    request = services.purge_cases(older_than_days=730)
    assert request is not None and request.cases == 2
    assert not CancellationCase.objects.filter(pk__in=[walked.pk, expired_case.pk]).exists()
    row = EvidenceRecord.objects.get(reference=walked.reference)
    assert row.case_id is None
    assert not EvidenceRecord.objects.filter(reference=expired_case.reference).exists()
    assert (
        request.detail["evidence_records_kept"],
        request.detail["evidence_records_expired"],
    ) == (
        1,
        1,  # bob's, written at his confirmation, past retention: gone with the purge
    )
    record = evidence.record_of(row)
    assert record["source"] == "retained"
    assert record["case"]["reference"] == walked.reference
    assert [p["page"] for p in record["pages_shown"]] == ["offer", "done"]
    assert record["acknowledgement"]["as_sent"]["subject"] == mail.outbox[0].subject
    assert record["acknowledgement"]["delivery"]["status"] == FollowUpStatus.DELIVERED
    assert [c["change"] for c in record["consents"]["changes"]] == ["given", "withdrawn"]
    # Still exported by the command and shown in the admin.
    day = (timezone.now() - timedelta(days=800)).date().isoformat()
    lines = export("--since", day, "--until", day).splitlines()
    assert [json.loads(line)["source"] for line in lines] == ["retained"]


def test_a_retained_record_opens_in_the_admin(walked, superuser_client):
    age(walked, 800)
    services.purge_cases(older_than_days=730)
    row = EvidenceRecord.objects.get(reference=walked.reference)
    page = superuser_client.get(reverse("admin:graceful_cancel_evidencerecord_page", args=[row.pk]))
    assert page.status_code == 200 and walked.reference in page.text
    assert "deleted by the retention purge" in page.text
    download = superuser_client.get(
        reverse("admin:graceful_cancel_evidencerecord_json", args=[row.pk])
    )
    assert json.loads(download.content)["source"] == "retained"
    listing = superuser_client.get(reverse("admin:graceful_cancel_evidencerecord_changelist"))
    assert listing.status_code == 200 and walked.reference in listing.text


def test_a_record_past_retention_goes_at_the_next_purge(walked):
    age(walked, 800)
    services.purge_cases(older_than_days=730)
    EvidenceRecord.objects.update(retain_until=timezone.now() - timedelta(minutes=1))
    request = services.purge_cases(older_than_days=730)
    assert request is not None and request.detail["evidence_records_expired"] == 1
    assert not EvidenceRecord.objects.exists()


def test_erasure_removes_the_records_and_says_so(walked, customer, make_customer, catalogue):
    # One of Alice's cases is already purged (its record retained), one is live.
    age(walked, 800)
    services.purge_cases(older_than_days=730)
    # She subscribed again since (and took back her opt-out), and cancelled again.
    Subscription.objects.filter(user=customer).update(cancel_at_period_end=False, canceled_at=None)
    OptOut.objects.filter(customer=customer).delete()
    live, _ = services.start_case(customer)
    confirm_and_send(live)
    other, _ = services.start_case(make_customer("bob"))
    confirm_and_send(other)
    assert EvidenceRecord.objects.count() == 3
    out = io.StringIO()
    call_command("graceful_cancel_erase_customer", str(customer.pk), "--yes", stdout=out)
    assert "Erased 2 retained evidence record(s)." in out.getvalue()
    assert list(EvidenceRecord.objects.values_list("case_id", flat=True)) == [other.pk]
    request = PrivacyRequest.objects.get(kind=PrivacyRequest.Kind.ERASE)
    assert request.detail["evidence_records_erased"] == 2
    # The live record no longer names her, nor shows the text she was sent.
    record = evidence.build_record(live)
    assert record["case"]["customer"] is None
    assert record["acknowledgement"]["as_sent"] is None


def test_erasure_blanks_the_offer_text_shown(walked, customer):
    services.erase_customer(customer, actor="system")
    shown = CaseEvent.objects.get(case=walked, kind=EventKind.PAGE_SHOWN, data__page="offer")
    assert shown.data["body"] == ""
    assert evidence.build_record(walked)["offer"]["text_shown"] is None


def test_the_retention_setting_is_checked():
    with override_settings(GRACEFUL_CANCEL=gc_settings(EVIDENCE_RETENTION_DAYS=0)):
        found = [e.id for e in run_checks(tags=[Tags.compatibility])]
    assert "graceful_cancel.E003" in found


def test_the_offer_text_reads_as_shown(customer, catalogue):
    case, _ = services.start_case(customer)
    services.record_reason(case, "price")
    assert services.present_offer(case) is not None
    evidence.page_shown(case, "offer", shown="<p>Price matters.</p><p>Stay for 30&#37; less.</p>")
    offer = evidence.build_record(case)["offer"]
    assert offer["text_shown"] == "Price matters.\nStay for 30% less."
    assert offer["outcome_label"] == "Presented"


def test_a_failed_page_record_never_fails_the_page(client, customer, catalogue, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("disk full")

    client.force_login(customer)
    client.post(flow_url("start"), {"action": "continue", "reason": "price"})
    case = CancellationCase.objects.get(customer=customer)
    monkeypatch.setattr(evidence, "record", broken)
    assert client.get(flow_url("offer", case)).status_code == 200
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.PAGE_SHOWN).exists()


def test_a_failed_capture_never_undoes_the_send(customer, catalogue, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(evidence, "_keep_confirmation", broken)
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case)
    row = FollowUp.objects.get(case=case, stage="confirmation")
    assert followups.send_followup(row.pk).status == FollowUpStatus.SENT
    row.refresh_from_db()
    assert row.status == FollowUpStatus.SENT
    assert not EvidenceRecord.objects.filter(case=case).exists()
    assert case.events.filter(kind=EventKind.MESSAGE_SENT).count() == 1


def test_a_withdrawal_shows_with_its_acknowledgement(customer, catalogue, superuser_client):
    case, _ = services.start_case(customer)
    assert evidence.build_record(case)["withdrawal"] is None
    acknowledged = timezone.now()
    withdrawal = Withdrawal.objects.create(
        case=case, name="Alice", email="alice@example.com", acknowledged_at=acknowledged
    )
    shown = evidence.build_record(case)["withdrawal"]
    assert shown["reference"] == withdrawal.reference
    assert shown["acknowledged_at"] and shown["withdrawn_at"] is None
    page = superuser_client.get(reverse("admin:graceful_cancel_evidence", args=[case.pk]))
    assert withdrawal.reference in page.text
    assert acknowledged.strftime("%Y-%m-%d %H:%M:%S UTC") in page.text
