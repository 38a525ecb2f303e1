"""The evidence record of a case: what a site can hand to a regulator (docs/compliance.md).

One record per case shows the jurisdiction and compliance profile that applied, every page the
customer was shown and every step taken (the timeline, with timestamps), the offer presented and
its text as shown, the confirmation as rendered and sent, the consents given or withdrawn, and the
delivery status of the acknowledgement.

*Computed on demand, retained as a snapshot.* While the case exists, the record is built from
the live rows (``build_records``), so it is always complete and current. What cannot be rebuilt
later is kept in an ``EvidenceRecord`` row: the confirmation exactly as rendered when it was sent
(templates change), written in one statement when the confirmation is sent, and a snapshot of
the whole record, written right before the purge deletes the case. The row outlives the purge until
``EVIDENCE_RETENTION_DAYS`` after the case closed, and goes with the customer's data when they ask
for erasure (``services.privacy``).

Writes happen here only, each in a transaction: ``page_shown`` (a timeline event, at most one per
page and case a minute), ``confirmation_sent`` (called by the follow-up outbox in the transaction
that records the send), ``record_export`` (who exported the record, when), and the purge's and
erasure's ``retain_for_purge``, ``expire`` and ``erase``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from html import unescape
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.html import strip_tags

from ..choices import ComplianceProfile, EventKind
from ..conf import app_settings
from ..models import (
    CancellationCase,
    CancellationDeclaration,
    CaseEvent,
    DeliveryEvent,
    EvidenceRecord,
    FollowUp,
    OfferPresentation,
    OptOut,
    Withdrawal,
)
from ..rendering import RenderedMessage
from .core import Actor, lock_case, record

logger = logging.getLogger("django_graceful_cancel")

#: Version of the record's layout; a consumer of the JSON checks it.
FORMAT = "django-graceful-cancel/evidence/1"
#: Follow-up stages whose rendered text is the customer's acknowledgement of the cancellation.
ACKNOWLEDGEMENT_STAGES = frozenset({"confirmation"})
#: At most one "page shown" event per page and case within this window.
PAGE_SHOWN_WINDOW = timedelta(minutes=1)
#: Longest page name and shown text a "page shown" event keeps.
PAGE_NAME_MAX_LENGTH = 40
SHOWN_TEXT_MAX_LENGTH = 20_000
#: Cases built together by the export command and the purge (bounded memory).
CHUNK_SIZE = 200


# --- writes -------------------------------------------------------------------------------------


def page_shown(
    case: CancellationCase,
    page: str,
    request: HttpRequest | None = None,
    *,
    shown: str = "",
) -> CaseEvent | None:
    """Record that the customer was shown ``page`` of ``case`` (``shown``: its rendered text,
    such as the offer's message); returns the event, or None when the same page of the case was
    already recorded within the last minute (a reload adds nothing).

    Keeps nothing the case does not already hold: the page's name, the language it was shown in
    and, when given, the text shown; never the address or the browser of the request.
    """
    page = page[:PAGE_NAME_MAX_LENGTH]
    actor = getattr(request, "user", None) if request is not None else None
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    data: dict[str, Any] = {"page": page, "language": translation.get_language() or ""}
    if shown:
        # "body" is one of the keys erasure blanks (services/privacy.py): the text may name the
        # customer.
        data["body"] = str(shown)[:SHOWN_TEXT_MAX_LENGTH]
    try:
        with transaction.atomic():
            # The lock serialises two tabs loading the page at once, so the window holds on
            # PostgreSQL too.
            locked = lock_case(case)
            since = timezone.now() - PAGE_SHOWN_WINDOW
            if CaseEvent.objects.filter(
                case=locked, kind=EventKind.PAGE_SHOWN, created_at__gte=since, data__page=page
            ).exists():
                return None
            return record(locked, EventKind.PAGE_SHOWN, actor=actor or "customer", data=data)
    except DatabaseError:
        # The customer's page matters more than its record: show it, and log why it is missing.
        logger.exception("Could not record page %r of case %s", page, case.reference)
        return None


def confirmation_sent(
    followup: FollowUp, rendered: RenderedMessage, *, case: CancellationCase
) -> None:
    """Keep the acknowledgement as it was rendered and sent (one statement in a savepoint).

    Called by the follow-up outbox inside the transaction that marks ``followup`` sent (and
    records its "message sent" event); other stages are not kept.
    """
    if followup.stage not in ACKNOWLEDGEMENT_STAGES:
        return
    sent = {
        "stage": followup.stage,
        "channel": followup.channel,
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "source": rendered.source,
        "language": case.language or translation.get_language() or "",
        "sent_at": timezone.now(),
    }
    try:
        # A savepoint: the message has gone, so a failure here must not roll back the row's
        # "sent" (the sweep would send it again); it is logged, and the purge's snapshot and the
        # live record still show the rest.
        with transaction.atomic():
            _keep_confirmation(case, _plain(sent))
    except DatabaseError:
        logger.exception("Could not keep the confirmation of case %s as evidence", case.reference)


def record_export(case: CancellationCase, *, actor: Actor, export_format: str) -> CaseEvent:
    """Write in the case's timeline who exported its evidence record, and as what."""
    with transaction.atomic():
        return record(
            case, EventKind.EVIDENCE_EXPORTED, actor=actor, data={"format": export_format[:16]}
        )


def retain_for_purge(case_ids: list[int]) -> tuple[int, int]:
    """Snapshot the cases the purge is about to delete whose retention period still runs, and
    delete the rows of those whose period has ended.

    Call inside the purge's transaction, before the delete. Returns (kept, deleted).
    """
    now = timezone.now()
    keep: list[int] = []
    past: list[int] = []
    for case in CancellationCase.objects.filter(pk__in=case_ids).only(
        "pk", "created_at", "closed_at", "cancelled_at", "updated_at"
    ):
        (keep if retain_until(case) > now else past).append(case.pk)
    for start in range(0, len(keep), CHUNK_SIZE):
        _snapshot(keep[start : start + CHUNK_SIZE])
    deleted, _ = EvidenceRecord.objects.filter(case_id__in=past).delete()
    return len(keep), deleted


def expire(*, now: datetime | None = None) -> int:
    """Delete retained records whose case is gone and whose retention period has ended."""
    now = now or timezone.now()
    deleted, _ = EvidenceRecord.objects.filter(case__isnull=True, retain_until__lt=now).delete()
    return deleted


def erase(customer_id: int, case_ids: Iterable[int]) -> int:
    """Delete the customer's retained records (their cases' and those of purged cases)."""
    deleted, _ = EvidenceRecord.objects.filter(
        Q(customer_id=customer_id) | Q(case_id__in=list(case_ids))
    ).delete()
    return deleted


def retain_until(case: CancellationCase) -> datetime:
    """When the case's evidence may go: ``EVIDENCE_RETENTION_DAYS`` after it closed."""
    closed = case.closed_at or case.cancelled_at or case.updated_at or case.created_at
    return closed + timedelta(days=app_settings.EVIDENCE_RETENTION_DAYS)


def _keep_confirmation(case: CancellationCase, confirmation: dict[str, Any]) -> None:
    """Write the confirmation as sent in one statement: an INSERT, or an UPDATE of the
    confirmation alone when the case already has its row (a second acknowledgement).

    Everything it needs is on the case the outbox already holds, so nothing is read again; the
    whole record is not rebuilt here (it is live while the case exists, and the purge snapshots
    it right before deleting the case: ``retain_for_purge``).
    """
    EvidenceRecord.objects.bulk_create(
        [
            EvidenceRecord(
                case_id=case.pk,
                reference=case.reference,
                case_started_at=case.created_at,
                customer_id=case.customer_id,
                retain_until=retain_until(case),
                confirmation=confirmation,
            )
        ],
        update_conflicts=True,
        unique_fields=["case"],
        update_fields=["confirmation"],
    )


def _snapshot(case_ids: list[int]) -> None:
    """Write (or refresh) the retained snapshot of each case."""
    cases = list(
        CancellationCase.objects.filter(pk__in=case_ids).select_related(
            "reason", "customer", "root_cause"
        )
    )
    records = build_records(cases)
    rows = {r.case_id: r for r in EvidenceRecord.objects.filter(case_id__in=case_ids)}
    now = timezone.now()
    new: list[EvidenceRecord] = []
    changed: list[EvidenceRecord] = []
    for case, built in zip(cases, records, strict=True):
        row = rows.get(case.pk)
        if row is None:
            row = EvidenceRecord(
                case=case,
                reference=case.reference,
                case_started_at=case.created_at,
                customer_id=case.customer_id,
            )
            new.append(row)
        else:
            changed.append(row)
        row.snapshot = built
        row.snapshot_at = now
        row.case_started_at = case.created_at
        row.retain_until = retain_until(case)
        row.customer_id = case.customer_id
    EvidenceRecord.objects.bulk_create(new)
    EvidenceRecord.objects.bulk_update(
        changed, ["snapshot", "snapshot_at", "case_started_at", "retain_until", "customer"]
    )


# --- reading ------------------------------------------------------------------------------------


def build_record(case: CancellationCase | int) -> dict[str, Any]:
    """The evidence record of one case, from the live rows: JSON-ready (ISO 8601 dates in UTC).

    A bounded number of queries, however long the timeline (tested).
    """
    pk = case.pk if isinstance(case, CancellationCase) else case
    found = CancellationCase.objects.select_related("reason", "customer", "root_cause").get(pk=pk)
    return build_records([found])[0]


def record_of(row: EvidenceRecord) -> dict[str, Any]:
    """What a retained row shows: the live record while its case exists, else its snapshot."""
    if row.case_id is not None:
        return build_record(row.case_id)
    return {**row.snapshot, "source": "retained", "retained_until": _iso(row.retain_until)}


def build_records(cases: list[CancellationCase]) -> list[dict[str, Any]]:
    """The records of ``cases`` (loaded with their reason, root cause and customer), in order,
    in eight queries whatever their number."""
    ids = [c.pk for c in cases]
    events: dict[int, list[CaseEvent]] = {}
    for event in CaseEvent.objects.filter(case_id__in=ids).order_by("created_at", "pk"):
        events.setdefault(event.case_id, []).append(event)
    offers = {
        p.case_id: p
        for p in OfferPresentation.objects.filter(case_id__in=ids).select_related("offer")
    }
    followups: dict[int, list[FollowUp]] = {}
    for row in FollowUp.objects.filter(case_id__in=ids).order_by("due_at", "pk"):
        followups.setdefault(row.case_id, []).append(row)
    deliveries: dict[int, list[DeliveryEvent]] = {}
    for delivery in DeliveryEvent.objects.filter(followup__case_id__in=ids).order_by(
        "created_at", "pk"
    ):
        deliveries.setdefault(delivery.followup_id or 0, []).append(delivery)
    customer_ids = {c.customer_id for c in cases if c.customer_id is not None}
    opt_outs: dict[int, list[OptOut]] = {}
    for opt_out in OptOut.objects.filter(customer_id__in=customer_ids).order_by("created_at"):
        opt_outs.setdefault(opt_out.customer_id, []).append(opt_out)
    retained = {r.case_id: r for r in EvidenceRecord.objects.filter(case_id__in=ids)}
    declarations: dict[int, list[CancellationDeclaration]] = {}
    for declaration in CancellationDeclaration.objects.filter(case_id__in=ids).order_by(
        "received_at"
    ):
        declarations.setdefault(declaration.case_id or 0, []).append(declaration)
    withdrawals = {w.case_id: w for w in Withdrawal.objects.filter(case_id__in=ids)}
    now = timezone.now()
    return [
        _plain(
            _record(
                case,
                events=events.get(case.pk, []),
                presentation=offers.get(case.pk),
                followups=followups.get(case.pk, []),
                deliveries=deliveries,
                opt_outs=opt_outs.get(case.customer_id or 0, []),
                retained=retained.get(case.pk),
                declarations=declarations.get(case.pk, []),
                withdrawal=withdrawals.get(case.pk),
                now=now,
            )
        )
        for case in cases
    ]


def records_between(
    since: datetime, until: datetime, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple[CancellationCase | None, dict[str, Any]]]:
    """The records of the cases started in [since, until), oldest first, then the retained
    records of purged cases started then; streamed ``chunk_size`` cases at a time.

    Yields (case, record); the case is None for a retained record of a purged case.
    """
    cases = (
        CancellationCase.objects.filter(created_at__gte=since, created_at__lt=until)
        .select_related("reason", "customer", "root_cause")
        .order_by("created_at", "pk")
    )
    chunk: list[CancellationCase] = []
    for case in cases.iterator(chunk_size=chunk_size):
        chunk.append(case)
        if len(chunk) >= chunk_size:
            yield from zip(chunk, build_records(chunk), strict=True)
            chunk = []
    if chunk:
        yield from zip(chunk, build_records(chunk), strict=True)
    orphans = EvidenceRecord.objects.filter(
        case__isnull=True, case_started_at__gte=since, case_started_at__lt=until
    ).order_by("case_started_at", "pk")
    for row in orphans.iterator(chunk_size=chunk_size):
        yield None, record_of(row)


# --- the record's parts -------------------------------------------------------------------------


def _record(
    case: CancellationCase,
    *,
    events: list[CaseEvent],
    presentation: OfferPresentation | None,
    followups: list[FollowUp],
    deliveries: dict[int, list[DeliveryEvent]],
    opt_outs: list[OptOut],
    retained: EvidenceRecord | None,
    declarations: list[CancellationDeclaration],
    withdrawal: Withdrawal | None,
    now: datetime,
) -> dict[str, Any]:
    profile = case.compliance_profile
    customer = case.customer
    return {
        "format": FORMAT,
        "generated_at": now,
        "source": "live",
        "time_zone": "UTC",
        "case": {
            "reference": case.reference,
            "status": case.status,
            "status_label": str(case.get_status_display()),
            "customer": (
                {
                    "id": customer.pk,
                    "username": customer.get_username(),
                    "email": getattr(customer, "email", ""),
                }
                if customer is not None
                else None
            ),
            "subscription": case.subscription_ref,
            "plan": case.plan,
            "price": case.price,
            "currency": case.currency,
            "billing_interval": case.billing_interval,
            "language": case.language,
            "customer_time_zone": case.time_zone,
            "started_at": case.created_at,
            "cancelled_at": case.cancelled_at,
            "effective_mode": case.effective_mode,
            "effective_at": case.effective_at,
            "saved_at": case.saved_at,
            "reactivated_at": case.reactivated_at,
            "closed_at": case.closed_at,
        },
        # Read defensively: the jurisdiction resolver (issue 16, part 1) adds these fields.
        "jurisdiction": getattr(case, "jurisdiction", "") or "",
        "jurisdiction_source": getattr(case, "jurisdiction_source", "") or "",
        "compliance_profile": {"code": profile, "label": _profile_label(profile)},
        "reason": {
            "slug": case.reason.slug if case.reason else None,
            "label": str(case.reason.localized_label) if case.reason else None,
            "in_customer_words": case.reason_detail,
        },
        "timeline": [_event(e) for e in events],
        "pages_shown": [
            {
                "at": e.created_at,
                "page": e.data.get("page", ""),
                "language": e.data.get("language", ""),
            }
            for e in events
            if e.kind == EventKind.PAGE_SHOWN
        ],
        "offer": _offer(presentation, events),
        "acknowledgement": _acknowledgement(followups, deliveries, retained),
        "messages": [_message(row, deliveries) for row in followups],
        "consents": _consents(case, events, opt_outs),
        "declarations": [
            {
                "reference": d.reference,
                "status": d.status,
                "termination": d.termination,
                "received_at": d.received_at,
                "language": d.language,
            }
            for d in declarations
        ],
        # The statutory withdrawal (issue 16, part 2) and its acknowledgement, when there was one.
        "withdrawal": (
            {
                "reference": withdrawal.reference,
                "status": withdrawal.status,
                "received_at": withdrawal.received_at,
                "signed_in": withdrawal.signed_in,
                "language": withdrawal.language,
                "withdrawn_at": withdrawal.withdrawn_at,
                "acknowledged_at": withdrawal.acknowledged_at,
                "refunded_at": withdrawal.refunded_at,
            }
            if withdrawal is not None
            else None
        ),
        "retention": {
            "retain_until": retained.retain_until if retained else retain_until(case),
            "snapshot_at": retained.snapshot_at if retained else None,
            "days": app_settings.EVIDENCE_RETENTION_DAYS,
        },
    }


def _profile_label(code: str) -> str:
    try:
        return str(ComplianceProfile(code).label)
    except ValueError:  # a site's own profile (issue 16, part 1)
        return code


def _event(event: CaseEvent) -> dict[str, Any]:
    try:
        label = str(EventKind(event.kind).label)
    except ValueError:
        label = event.kind
    return {
        "at": event.created_at,
        "kind": event.kind,
        "label": label,
        "type": "page" if event.kind == EventKind.PAGE_SHOWN else "step",
        "by": event.actor_label,
        "data": {k: v for k, v in event.data.items() if k != "body"},
    }


_BLOCK_END = re.compile(r"</(?:p|div|li|h[1-6]|tr|blockquote)\s*>|<br\s*/?>", re.IGNORECASE)


def _plain_text(html: str) -> str:
    """What a reader saw of an HTML fragment: tags dropped, entities decoded, spaces folded."""
    # A block's end is a line break on screen: keep it, or "</p><p>" runs sentences together.
    broken = _BLOCK_END.sub(lambda m: m.group(0) + "\n", html)
    text = unescape(strip_tags(broken))
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def _offer(
    presentation: OfferPresentation | None, events: list[CaseEvent]
) -> dict[str, Any] | None:
    if presentation is None:
        return None
    offer = presentation.offer
    # The offer page as the customer first saw it (a reload within the minute adds nothing).
    shown = next(
        (
            e
            for e in events
            if e.kind == EventKind.PAGE_SHOWN
            and e.data.get("page") == "offer"
            and e.data.get("body")
            and e.created_at >= presentation.presented_at - PAGE_SHOWN_WINDOW
        ),
        None,
    )
    return {
        "slug": offer.slug,
        "kind": offer.kind,
        "title": str(offer.localized_title),
        "description": str(offer.localized_description),
        "presented_at": presentation.presented_at,
        "outcome": presentation.outcome,
        "outcome_label": str(presentation.get_outcome_display()),
        "decided_at": presentation.decided_at,
        "applied": presentation.applied,
        "shown_at": shown.created_at if shown else None,
        "text_shown": _plain_text(shown.data["body"]) if shown else None,
        "html_shown": shown.data["body"] if shown else None,
    }


def _message(row: FollowUp, deliveries: dict[int, list[DeliveryEvent]]) -> dict[str, Any]:
    return {
        "stage": row.stage,
        "channel": row.channel,
        "status": row.status,
        "status_label": str(row.get_status_display()),
        "due_at": row.due_at,
        "sent_at": row.sent_at,
        "delivered_at": row.delivered_at,
        "opened_at": row.opened_at,
        "recipient": row.recipient,
        "provider_message_id": row.provider_message_id,
        "error": row.last_error,
        "tracking": [
            {"at": d.created_at, "event": d.event_type, "provider": d.esp_name}
            for d in deliveries.get(row.pk, [])
        ],
    }


def _acknowledgement(
    followups: list[FollowUp],
    deliveries: dict[int, list[DeliveryEvent]],
    retained: EvidenceRecord | None,
) -> dict[str, Any] | None:
    row = next((f for f in followups if f.stage in ACKNOWLEDGEMENT_STAGES), None)
    sent = dict(retained.confirmation) if retained and retained.confirmation else None
    if row is None and sent is None:
        return None
    return {
        "delivery": _message(row, deliveries) if row is not None else None,
        # The text exactly as rendered when it was sent; None before it is sent.
        "as_sent": sent,
    }


def _consents(
    case: CancellationCase, events: list[CaseEvent], opt_outs: list[OptOut]
) -> dict[str, Any]:
    """Consent to follow-ups given or withdrawn, in order, from the timeline; and what holds
    now (the case's consent and the customer's opt-outs)."""
    changes: list[dict[str, Any]] = []
    consenting = False
    for event in events:
        if event.kind == EventKind.REASON_RECORDED and "consent" in event.data:
            given = bool(event.data["consent"])
            if given != consenting:
                changes.append(
                    {
                        "at": event.created_at,
                        "change": "given" if given else "withdrawn",
                        "channel": event.data.get("channel", ""),
                        "by": event.actor_label,
                    }
                )
            consenting = given
        elif event.kind == EventKind.OPTED_OUT:
            changes.append(
                {
                    "at": event.created_at,
                    "change": "withdrawn",
                    "channel": event.data.get("channel", ""),
                    "source": event.data.get("source", ""),
                    "by": event.actor_label,
                }
            )
    return {
        "changes": changes,
        "contact_consent": case.contact_consent,
        "contact_consent_at": case.contact_consent_at,
        "opt_outs": [
            {"channel": o.channel or "all", "source": o.source, "at": o.created_at}
            for o in opt_outs
        ],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A record made JSON-ready (dates as ISO 8601 strings, decimals as strings)."""
    return json.loads(json.dumps(row, cls=DjangoJSONEncoder))
