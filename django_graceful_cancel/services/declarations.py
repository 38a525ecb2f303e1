"""No-login cancellation declarations: receive, match, cancel, acknowledge, dispute.

The ``eu`` profile's public page (BGB section 312k, CRD art. 11a) takes a declaration from anyone
who can name the customer and the contract; nobody has to log in or prove anything more. This
module:

1. rate-limits the page per client address and per email address (``DECLARATION_RATE_LIMIT``);
2. keeps the declaration as received (``CancellationDeclaration``);
3. matches it to a customer (the account email, else the username given as the contract) and
   confirms the cancellation through ``services.cases``, or records it for staff when it cannot
   (no match, several matches, an end date the backend cannot honour);
4. acknowledges it by email after commit, to the address given and to the address on the
   account, which gets a one-click "this was not me" link;
5. ``dispute_declaration``: the account holder's "this was not me" flags the declaration for
   staff and undoes the cancellation while that is still possible.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .. import signals
from ..choices import CaseStatus, ComplianceProfile, DeclarationStatus, EventKind, TerminationType
from ..conf import app_settings
from ..exceptions import (
    FieldError,
    GracefulCancelError,
    InvalidInput,
    InvalidTransition,
    RateLimited,
)
from ..models import CancellationCase, CancellationDeclaration
from ..sites import absolute, site_name
from . import cases
from .core import Actor, record

logger = logging.getLogger("django_graceful_cancel")

ACTOR = "declaration"


def client_hash(address: str) -> str:
    """A keyed hash of the client address: rate limiting without storing the address."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"gc-declaration:{address}".encode(), hashlib.sha256).hexdigest()


def check_rate_limit(*, client: str, email: str = "") -> None:
    """Raise ``RateLimited`` when the client address or the email sent too many declarations."""
    limit = app_settings.DECLARATION_RATE_LIMIT
    if not limit:
        return
    since = timezone.now() - timedelta(minutes=app_settings.DECLARATION_RATE_WINDOW_MINUTES)
    recent = CancellationDeclaration.objects.filter(received_at__gte=since)
    if client and recent.filter(client_hash=client_hash(client)).count() >= limit:
        raise RateLimited()
    if email and recent.filter(email__iexact=email.strip()).count() >= limit:
        raise RateLimited()


def _match_customer(email: str, contract: str) -> tuple[Any, str]:
    """The one customer the declaration names, or ``(None, why)``."""
    User = get_user_model()
    email_field = User.get_email_field_name()
    by_email = list(User._default_manager.filter(**{f"{email_field}__iexact": email})[:2])
    if len(by_email) == 1:
        return by_email[0], ""
    if len(by_email) > 1:
        return None, "several accounts use this email address"
    if contract.strip():
        by_name = list(
            User._default_manager.filter(**{f"{User.USERNAME_FIELD}__iexact": contract.strip()})[:2]
        )
        if len(by_name) == 1:
            return by_name[0], ""
    return None, "no account with this email address or customer name"


def check_declaration(
    *, termination: str | None, extraordinary_reason: str = "", requested_end_date: date | None
) -> None:
    """The input rules of the declaration page; raises ``InvalidInput`` naming every bad field.

    * an extraordinary termination states its reason;
    * a requested end date is not in the past.
    """
    errors: dict[str, list[FieldError]] = {}
    if termination == TerminationType.EXTRAORDINARY and not extraordinary_reason.strip():
        errors["extraordinary_reason"] = [
            FieldError(
                "reason_required", _("Please give the reason for an extraordinary termination.")
            )
        ]
    if requested_end_date is not None and requested_end_date < timezone.localdate():
        errors["requested_end_date"] = [
            FieldError("date_in_past", _("The end date cannot be in the past."))
        ]
    if errors:
        raise InvalidInput(errors)


def declare_cancellation(
    *,
    name: str,
    email: str,
    contract: str = "",
    termination: str = TerminationType.ORDINARY,
    extraordinary_reason: str = "",
    requested_end_date: date | None = None,
    language: str | None = None,
    client: str = "",
) -> CancellationDeclaration:
    """Receive a declaration; cancel the matching subscription or record it for staff."""
    if termination not in TerminationType.values:
        raise InvalidTransition(code="unknown_termination")
    check_rate_limit(client=client, email=email)
    language = (language or translation.get_language() or "")[:16]
    with transaction.atomic():
        declaration = CancellationDeclaration.objects.create(
            name=name.strip()[:200],
            email=email.strip()[:254],
            contract=contract.strip()[:300],
            termination=termination,
            extraordinary_reason=extraordinary_reason.strip()[:5000]
            if termination == TerminationType.EXTRAORDINARY
            else "",
            requested_end_date=requested_end_date,
            language=language,
            client_hash=client_hash(client) if client else "",
        )
        customer, why = _match_customer(declaration.email, declaration.contract)
        case = None
        if customer is not None:
            declaration.customer = customer
            case, why = _cancel_for(declaration, customer)
        declaration.case = case
        if case is not None and case.status == CaseStatus.CANCELLED:
            declaration.status = DeclarationStatus.MATCHED
        else:
            declaration.staff_note = why
        declaration.save(update_fields=["customer", "case", "status", "staff_note"])
        signals.declaration_received.send(
            sender=CancellationDeclaration, declaration=declaration, case=case
        )
        pk = declaration.pk
        transaction.on_commit(lambda: _acknowledge_safely(pk))
    return declaration


def _cancel_for(
    declaration: CancellationDeclaration, customer: Any
) -> tuple[CancellationCase | None, str]:
    try:
        case, _created = cases.start_case(
            customer,
            language=declaration.language,
            compliance_profile=ComplianceProfile.EU,
            actor=ACTOR,
        )
    except InvalidTransition as error:
        if error.code == "already_cancelled":
            return None, "the subscription is already set to end"
        raise
    except GracefulCancelError:
        return None, "no active subscription for this customer"
    immediately = declaration.termination == TerminationType.EXTRAORDINARY
    if (
        not immediately
        and declaration.requested_end_date is not None
        and case.period_end is not None
        and declaration.requested_end_date > timezone.localdate(case.period_end)
    ):
        # The backend ends subscriptions at the period end or at once, never on a later date:
        # the case stays open for staff to settle with the customer.
        declaration.case = case
        return case, "the requested end date is after the end of the paid period"
    # Linked before confirming, so the confirmation (rendered from the case) can show the
    # declaration and the "this was not me" link.
    declaration.case = case
    declaration.save(update_fields=["case"])
    if declaration.extraordinary_reason:
        cases.record_reason(case, None, detail=declaration.extraordinary_reason, actor=ACTOR)
    case = cases.confirm_cancellation(
        case, effective="immediately" if immediately else None, actor=ACTOR
    )
    return case, ""


def _acknowledge_safely(pk: int) -> None:
    try:
        send_acknowledgements(pk)
    except Exception:
        logger.exception("Could not acknowledge cancellation declaration %s", pk)


def send_acknowledgements(pk: int) -> int:
    """Email the acknowledgement; returns how many messages went out.

    The address given always gets one. The address on the matched account gets one with the
    "this was not me" link; when it is the same address, one message carries both.
    """
    declaration = CancellationDeclaration.objects.select_related("case", "customer").get(pk=pk)
    account_email = ""
    if declaration.customer is not None:
        account_email = getattr(declaration.customer, declaration.customer.get_email_field_name())
    same = bool(account_email) and account_email.lower() == declaration.email.lower()
    recipients: list[tuple[str, bool]] = []
    if declaration.status == DeclarationStatus.MATCHED:
        # The case's own confirmation goes to the account address and carries the declaration
        # and the "this was not me" link (messages/confirmation): no second message there.
        if not same:
            recipients.append((declaration.email, False))
    else:
        recipients.append((declaration.email, same))
        if account_email and not same:
            recipients.append((account_email, True))
    sent = 0
    with translation.override(declaration.language or settings.LANGUAGE_CODE):
        for address, with_dispute in recipients:
            context = {
                "declaration": declaration,
                "case": declaration.case,
                "site_name": site_name(),
                "acknowledgement_url": absolute(declaration.acknowledgement_path),
                "dispute_url": absolute(declaration.dispute_path) if with_dispute else "",
                "to_account_holder": with_dispute,
            }
            root = "django_graceful_cancel/declaration/acknowledgement"
            subject = " ".join(render_to_string(f"{root}_subject.txt", context).split())
            body = render_to_string(f"{root}_message.txt", context).strip()
            message = EmailMultiAlternatives(
                subject=subject,
                body=body,
                from_email=app_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL,
                to=[address],
            )
            message.tags = ["graceful-cancel", "declaration"]  # type: ignore[attr-defined]
            message.metadata = {"declaration": declaration.reference}  # type: ignore[attr-defined]
            message.send()
            sent += 1
    return sent


def dispute_declaration(
    declaration: CancellationDeclaration, *, actor: Actor = "account holder"
) -> CancellationDeclaration:
    """The account holder says the declaration was not theirs: flag it, undo what still can be.

    Idempotent: a second click changes nothing. Raises nothing for a closed reactivation window:
    the declaration is flagged for staff either way.
    """
    with transaction.atomic():
        declaration = CancellationDeclaration.objects.select_for_update().get(pk=declaration.pk)
        if declaration.status == DeclarationStatus.DISPUTED:
            return declaration
        now = timezone.now()
        updated = (
            CancellationDeclaration.objects.filter(pk=declaration.pk)
            .exclude(status=DeclarationStatus.DISPUTED)
            .update(status=DeclarationStatus.DISPUTED, disputed_at=now)
        )
        if updated != 1:
            return declaration
        declaration.status = DeclarationStatus.DISPUTED
        declaration.disputed_at = now
        case = declaration.case
        reactivated = False
        if case is not None:
            # The declaration's own signal (below) tells receivers; the case gets the event.
            record(
                case, EventKind.DISPUTED, actor=actor, data={"declaration": declaration.reference}
            )
            case.refresh_from_db()
            if case.status == CaseStatus.CANCELLED and case.can_reactivate:
                cases.reactivate(case, actor=actor)
                reactivated = True
        signals.declaration_disputed.send(
            sender=CancellationDeclaration,
            declaration=declaration,
            case=case,
            reactivated=reactivated,
        )
    return declaration
