"""No-login cancellation declarations: receive, match, apply, acknowledge, confirm, dispute.

The ``eu`` profile's public page (BGB section 312k, CRD art. 11a) takes a declaration from anyone
who can name the customer and the contract: nobody logs in or proves anything. So that a stranger
can never end someone else's subscription, nor learn anything about an account, this module
(docs/compliance.md, "How the page protects customers"):

1. ``receive_declaration`` (during the request): rate-limits per client address and per email
   address (``DECLARATION_RATE_LIMIT``) and stores the declaration as received. It runs the same
   queries whatever was typed, so the page's answer and its timing say nothing about an account.
2. ``process_declaration`` (after the response has been sent; ``process_pending_declarations``
   catches any left behind) matches it to an account **on the account's own email only**, then:

   * an ordinary termination is confirmed at once, at the end of the paid period, so the
     account holder's "this was not me" can always undo it;
   * one that would end the subscription at once (an extraordinary termination, or an ordinary
     one the backend cannot defer) waits (``pending``) until the account holder confirms it
     from the account address (a signed, expiring, single-purpose link) or staff apply it;
   * anything else (no account, several accounts, a customer name typed with an address that
     is not that account's, nothing to cancel, an end date the backend cannot honour) is
     recorded for staff, never cancelled automatically.

3. acknowledges it by email to the address given, at most ``DECLARATION_MAIL_LIMIT`` messages
   per address and window. Mail to an address that is not one account's own carries nothing the
   sender wrote but their name; details of the contract go only to the account's own address.
4. ``confirm_declaration``: the account holder (link) or staff (admin) make a waiting
   declaration effective.
5. ``dispute_declaration``: "this was not me" flags the declaration for staff and undoes the
   cancellation it caused, even one that has taken effect.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .. import signals
from ..backends import get_backend
from ..choices import (
    CaseStatus,
    ComplianceProfile,
    DeclarationStatus,
    EffectiveMode,
    EventKind,
    JurisdictionSource,
    TerminationType,
)
from ..compliance import rules_for
from ..conf import app_settings
from ..exceptions import (
    BackendError,
    FieldError,
    GracefulCancelError,
    InvalidInput,
    InvalidTransition,
    RateLimited,
)
from ..followups.links import InvalidLink
from ..jurisdiction import Jurisdiction, profile_for, resolve_jurisdiction
from ..models import CancellationCase, CancellationDeclaration
from ..sites import absolute, site_name
from ..webhooks.outbox import enqueue_for_declaration
from . import cases, inputs
from .core import Actor, record

logger = logging.getLogger("django_graceful_cancel")

#: How a cancellation the page applied by itself appears on the case's timeline.
ACTOR = "declaration"
#: How the account holder's confirmation and "this was not me" appear on the timeline.
HOLDER = "account holder"
#: The signing salt of the account holder's confirmation link (one purpose only).
CONFIRM_SALT = "django_graceful_cancel.declarations.confirm"

# Why a declaration waits for staff (``staff_note``, shown in the admin).
NO_ACCOUNT = "no account uses this email address"
SEVERAL_ACCOUNTS = "several accounts use this email address"
NAME_ONLY = (
    "the customer name matches the account {name!r}, whose email address is not the one given: "
    "check with the account holder, at the account's own address, before cancelling"
)
NOTHING_TO_CANCEL = "no active subscription for this customer"
ALREADY_ENDING = "the subscription is already set to end"
LATER_END_DATE = "the requested end date is after the end of the paid period"
ANOTHER_DECLARATION = "another declaration is already waiting on this customer's open case"
WAITS = (
    "ends the subscription at once: takes effect when the account holder confirms it from the "
    "account address, or when staff apply it"
)
NOT_PENDING = _("Only a declaration waiting for the account holder or staff can be applied.")
MAIL_LIMITED = "no acknowledgement emailed: too many to this address within the rate window"


# --- Rate limits ----------------------------------------------------------------------------


def client_hash(address: str) -> str:
    """A keyed hash of the client address: rate limiting without storing the address."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"gc-declaration:{address}".encode(), hashlib.sha256).hexdigest()


def _window_start() -> Any:
    return timezone.now() - timedelta(minutes=app_settings.DECLARATION_RATE_WINDOW_MINUTES)


def check_rate_limit(*, client: str, email: str = "") -> None:
    """Raise ``RateLimited`` when the client address or the email sent too many declarations.

    ``client`` is the address ``client_ip.client_ip`` found (``GRACEFUL_CANCEL["CLIENT_IP"]``).
    """
    limit = app_settings.DECLARATION_RATE_LIMIT
    if not limit:
        return
    recent = CancellationDeclaration.objects.filter(received_at__gte=_window_start())
    if client and recent.filter(client_hash=client_hash(client)).count() >= limit:
        raise RateLimited()
    if email and recent.filter(email__iexact=email.strip()).count() >= limit:
        raise RateLimited()


def mail_limit_reached(address: str, *, exclude: int | None = None) -> bool:
    """Whether ``address`` already got ``DECLARATION_MAIL_LIMIT`` acknowledgements this window."""
    limit = app_settings.DECLARATION_MAIL_LIMIT
    if not limit or not address:
        return False
    sent = CancellationDeclaration.objects.filter(
        email__iexact=address, acknowledged_at__gte=_window_start()
    )
    if exclude is not None:
        sent = sent.exclude(pk=exclude)
    return sent.count() >= limit


# --- Input rules ------------------------------------------------------------------------------


def check_declaration(
    *,
    termination: str | None,
    extraordinary_reason: str = "",
    requested_end_date: date | None,
    email: str | None = None,
) -> None:
    """The input rules of the declaration page; raises ``InvalidInput`` naming every bad field.

    * the email address (when given) is an address of at most 254 characters: refused, never
      cut, since the acknowledgement must reach the address the sender typed;
    * an extraordinary termination states its reason;
    * a requested end date is not in the past.
    """
    errors: dict[str, list[FieldError]] = {}
    if email is not None:
        try:
            inputs.check_email(email, field="email")
        except InvalidInput as error:
            errors.update(error.errors)
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


# --- Receiving --------------------------------------------------------------------------------


def receive_declaration(
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
    """Store a declaration as received (``status="received"``); ``process_declaration`` follows.

    Raises ``RateLimited`` past ``DECLARATION_RATE_LIMIT``. Looks nothing up: what it does, and
    how long it takes, is the same whether or not the declaration names an account.
    """
    if termination not in TerminationType.values:
        raise InvalidTransition(code="unknown_termination")
    email = inputs.check_email(email, field="email")
    check_rate_limit(client=client, email=email)
    language = (language or translation.get_language() or "")[:16]
    return CancellationDeclaration.objects.create(
        name=name.strip()[:200],
        email=email,
        contract=contract.strip()[:300],
        termination=termination,
        extraordinary_reason=extraordinary_reason.strip()[:5000]
        if termination == TerminationType.EXTRAORDINARY
        else "",
        requested_end_date=requested_end_date,
        language=language,
        client_hash=client_hash(client) if client else "",
    )


def declare_cancellation(**fields: Any) -> CancellationDeclaration:
    """Receive a declaration and process it at once (the arguments of ``receive_declaration``).

    For callers without a client waiting on the answer. The page instead answers first and
    processes after the response, so that its timing reveals nothing.
    """
    declaration = receive_declaration(**fields)
    process_declaration(declaration.pk)
    declaration.refresh_from_db()
    return declaration


# --- Processing -------------------------------------------------------------------------------


def process_declaration(
    pk: int, *, jurisdiction: Jurisdiction | None = None
) -> CancellationDeclaration | None:
    """Match a received declaration and apply it, hold it, or record it for staff; then
    acknowledge it (after the commit). Returns None when it was processed already.

    ``jurisdiction`` is the sender's as the page resolved it (``resolve_jurisdiction``: the
    CDN's country header, say); the matched customer's billing address comes first.
    """
    with transaction.atomic():
        declaration = (
            CancellationDeclaration.objects.select_for_update()
            .filter(pk=pk, status=DeclarationStatus.RECEIVED)
            .first()
        )
        if declaration is None:
            return None
        customer, why = match_customer(declaration)
        case: CancellationCase | None = None
        status: str = DeclarationStatus.RECORDED
        if customer is not None:
            declaration.customer = customer
            status, case, why = _settle(declaration, customer, jurisdiction)
        declaration.status = status
        declaration.case = case
        declaration.staff_note = why
        if status == DeclarationStatus.MATCHED:
            # The case's own confirmation (messages/confirmation) is the acknowledgement: it
            # goes to this address, which is the account's, and counts against the mail limit.
            declaration.acknowledged_at = timezone.now()
        declaration.save(
            update_fields=["customer", "case", "status", "staff_note", "acknowledged_at"]
        )
        signals.declaration_received.send(
            sender=CancellationDeclaration, declaration=declaration, case=case
        )
        # Outbound webhooks (issue 18): the event's rows join this transaction.
        enqueue_for_declaration(declaration, "declaration.received")
        if status != DeclarationStatus.MATCHED:
            transaction.on_commit(lambda: _acknowledge_safely(pk))
    return declaration


def process_pending_declarations(*, older_than_minutes: int = 2, limit: int = 500) -> int:
    """Process declarations left ``received`` (the process that took them stopped before it
    could); returns how many. The page processes its own right after answering, so only
    declarations older than ``older_than_minutes`` are taken."""
    since = timezone.now() - timedelta(minutes=older_than_minutes)
    pks = list(
        CancellationDeclaration.objects.filter(
            status=DeclarationStatus.RECEIVED, received_at__lt=since
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in pks:
        if process_declaration(pk) is not None:
            done += 1
    return done


def match_customer(declaration: Any) -> tuple[Any, str]:
    """The one account whose own email the declaration gives, or ``(None, why)``.

    Reads ``email`` and ``contract``: the withdrawal page matches its no-login withdrawals with
    it too (services/withdrawals.py).

    A customer name typed as the contract never matches by itself: anyone can type one.
    """
    User = get_user_model()
    email_field = User.get_email_field_name()
    manager = User._default_manager
    by_email = list(manager.filter(**{f"{email_field}__iexact": declaration.email})[:2])
    if len(by_email) == 1:
        return by_email[0], ""
    if len(by_email) > 1:
        return None, SEVERAL_ACCOUNTS
    named = declaration.contract.strip()
    if named:
        by_name = list(manager.filter(**{f"{User.USERNAME_FIELD}__iexact": named})[:2])
        if len(by_name) == 1:
            return None, NAME_ONLY.format(name=by_name[0].get_username())
    return None, NO_ACCOUNT


def _settle(
    declaration: CancellationDeclaration, customer: Any, sender: Jurisdiction | None = None
) -> tuple[str, CancellationCase | None, str]:
    """``(status, case, why)`` for a declaration matched to ``customer`` by its own email."""
    backend = get_backend()
    info = backend.get_active_subscription(customer)
    if info is None or not info.is_active:
        return DeclarationStatus.RECORDED, None, NOTHING_TO_CANCEL
    if info.cancel_at_period_end:
        return DeclarationStatus.RECORDED, None, ALREADY_ENDING
    mode, _at = cases.effective_for(
        info.current_period_end, EffectiveMode.PERIOD_END, backend=backend
    )
    if declaration.termination == TerminationType.EXTRAORDINARY or mode != EffectiveMode.PERIOD_END:
        return DeclarationStatus.PENDING, None, WAITS
    return _cancel(
        declaration,
        customer,
        effective=EffectiveMode.PERIOD_END,
        actor=ACTOR,
        jurisdiction=declaration_jurisdiction(customer, sender, subscription=info),
    )


def declaration_jurisdiction(
    customer: Any, sender: Jurisdiction | None = None, *, subscription: Any = None
) -> Jurisdiction | None:
    """The customer's jurisdiction for a declaration: their billing address, else the sender's
    as the page saw it (``sender``), else the site's default (the resolver, without a request)."""
    found = resolve_jurisdiction(customer, None, subscription=subscription)
    if found is not None and found.source == JurisdictionSource.BILLING:
        return found
    return sender or found


def declaration_profile(jurisdiction: Jurisdiction | None) -> str:
    """The profile a declaration case follows: the jurisdiction's (``de`` gives the § 312k
    page's rules, ``eu`` art. 11a's), or ``eu`` when that profile has no declaration page: the
    declaration came through one, so the case keeps the rules of a profile that has it."""
    profile = profile_for(jurisdiction)
    return profile if rules_for(profile).declaration_page else ComplianceProfile.EU


def _cancel(
    declaration: CancellationDeclaration,
    customer: Any,
    *,
    effective: str,
    actor: Actor,
    jurisdiction: Jurisdiction | None = None,
) -> tuple[str, CancellationCase | None, str]:
    """Open (or reuse) the customer's case and confirm the cancellation through the services."""
    try:
        case, _created = cases.start_case(
            customer,
            language=declaration.language,
            compliance_profile=declaration_profile(jurisdiction),
            jurisdiction=jurisdiction,
            actor=actor,
            # One reference for the sender: the case takes the declaration's.
            reference=declaration.reference,
        )
    except InvalidTransition as error:
        if error.code == "already_cancelled":
            return DeclarationStatus.RECORDED, None, ALREADY_ENDING
        raise
    except BackendError:
        raise  # the billing system is down: nothing changes, the caller tries again
    except GracefulCancelError:
        return DeclarationStatus.RECORDED, None, NOTHING_TO_CANCEL
    if CancellationDeclaration.objects.filter(case=case).exclude(pk=declaration.pk).exists():
        return DeclarationStatus.RECORDED, None, ANOTHER_DECLARATION
    if (
        effective == EffectiveMode.PERIOD_END
        and declaration.requested_end_date is not None
        and case.period_end is not None
        and declaration.requested_end_date > timezone.localdate(case.period_end)
    ):
        # The backend ends subscriptions at the period end or at once, never on a later date:
        # the case stays open for staff to settle with the customer.
        return DeclarationStatus.RECORDED, case, LATER_END_DATE
    # Linked before confirming, so the confirmation (rendered from the case) can show the
    # declaration, its reference and the "this was not me" link.
    declaration.case = case
    declaration.save(update_fields=["case"])
    if declaration.extraordinary_reason:
        cases.record_reason(case, None, detail=declaration.extraordinary_reason, actor=actor)
    case = cases.confirm_cancellation(case, effective=effective, actor=actor)
    return DeclarationStatus.MATCHED, case, ""


# --- Acknowledging --------------------------------------------------------------------------


def _acknowledge_safely(pk: int) -> None:
    try:
        send_acknowledgements(pk)
    except Exception:
        logger.exception("Could not acknowledge cancellation declaration %s", pk)


def account_address(declaration: CancellationDeclaration) -> str:
    """The matched account's own email address, or ""."""
    customer = declaration.customer
    if customer is None:
        return ""
    return str(getattr(customer, customer.get_email_field_name(), "") or "")


def is_account_address(declaration: CancellationDeclaration) -> bool:
    """Whether the address given is the matched account's own (what may receive details)."""
    own = account_address(declaration)
    return bool(own) and own.lower() == declaration.email.strip().lower()


def send_acknowledgements(pk: int) -> int:
    """Email the acknowledgement to the address given; returns how many messages went out.

    A matched declaration needs none: the case's confirmation is its acknowledgement. To the
    account's own address the message repeats the declaration and carries the links (confirm,
    "this was not me"); to any other address only the sender's name, the reference, the date
    and time of receipt and the type of termination. At most ``DECLARATION_MAIL_LIMIT`` per
    address and window: past that the declaration is noted for staff instead.
    """
    declaration = CancellationDeclaration.objects.select_related("case", "customer").get(pk=pk)
    if declaration.status == DeclarationStatus.MATCHED or declaration.acknowledged_at:
        return 0
    address = declaration.email
    if not address:
        return 0
    if mail_limit_reached(address, exclude=declaration.pk):
        note = f"{declaration.staff_note}; {MAIL_LIMITED}" if declaration.staff_note else ""
        CancellationDeclaration.objects.filter(pk=pk).update(staff_note=note or MAIL_LIMITED)
        logger.warning("Declaration %s: acknowledgement not emailed (mail limit)", pk)
        return 0
    own = is_account_address(declaration)
    waiting = own and declaration.status == DeclarationStatus.PENDING
    context = {
        "declaration": declaration,
        "site_name": site_name(),
        "to_account_holder": own,
        "acknowledgement_url": absolute(declaration.acknowledgement_path) if own else "",
        "dispute_url": absolute(declaration.dispute_path) if own else "",
        "confirm_url": absolute(confirmation_path(declaration)) if waiting else "",
        "confirm_days": app_settings.DECLARATION_CONFIRM_DAYS,
    }
    mail_acknowledgement(
        "django_graceful_cancel/declaration/acknowledgement",
        context,
        language=declaration.language,
        to=address,
        kind="declaration",
        reference=declaration.reference,
    )
    CancellationDeclaration.objects.filter(pk=pk).update(acknowledged_at=timezone.now())
    return 1


def mail_acknowledgement(
    root: str, context: dict[str, Any], *, language: str, to: str, kind: str, reference: str
) -> None:
    """Render ``<root>_subject.txt`` and ``<root>_message.txt`` in ``language`` and send them to
    ``to`` through Django's mail API (so anymail's ESPs tag and track it). The declaration and
    the withdrawal acknowledgements, both durable-medium receipts, go out this way."""
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{root}_subject.txt", context).split())
        body = render_to_string(f"{root}_message.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=app_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.tags = ["graceful-cancel", kind]  # type: ignore[attr-defined]
    message.metadata = {kind: reference}  # type: ignore[attr-defined]
    message.send()


# --- The account holder's confirmation ----------------------------------------------------------


def confirmation_token(declaration: CancellationDeclaration) -> str:
    """The signed token of the link that lets the account holder make ``declaration`` effective.

    Signed with its own salt (it does nothing else), expires after ``DECLARATION_CONFIRM_DAYS``
    and works once: only while the declaration is ``pending``. It carries the declaration's
    primary key, nothing personal.
    """
    return signing.dumps({"d": declaration.pk}, salt=CONFIRM_SALT)


def confirmation_path(declaration: CancellationDeclaration) -> str:
    try:
        return reverse(
            "graceful_cancel:declaration_confirm", args=[confirmation_token(declaration)]
        )
    except NoReverseMatch:  # the host did not include django_graceful_cancel.urls
        return ""


def read_confirmation_token(token: str) -> CancellationDeclaration:
    """The declaration a confirmation link names; raises ``InvalidLink`` ("invalid"/"expired").

    Valid only while the account's address is still the one the link was sent to.
    """
    max_age = int(app_settings.DECLARATION_CONFIRM_DAYS) * 86400
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise InvalidLink("expired") from error
    except signing.BadSignature as error:
        raise InvalidLink("invalid") from error
    if not isinstance(data, dict) or not isinstance(data.get("d"), int):
        raise InvalidLink("invalid")
    declaration = (
        CancellationDeclaration.objects.select_related("case", "customer")
        .filter(pk=data["d"])
        .first()
    )
    if declaration is None or not is_account_address(declaration):
        raise InvalidLink("invalid")
    return declaration


def confirm_declaration(
    declaration: CancellationDeclaration, *, actor: Actor = HOLDER
) -> CancellationDeclaration:
    """Make a waiting (``pending``) declaration effective: the account holder confirmed it from
    the account address, or staff (``actor``) checked it.

    Cancels through the services (immediately for an extraordinary termination, else as the
    backend can), or records it for staff when there is nothing left to cancel. Raises
    ``InvalidTransition("declaration_not_pending")`` for any other declaration.
    """
    with transaction.atomic():
        declaration = (
            CancellationDeclaration.objects.select_for_update(of=("self",))
            .select_related("customer")
            .get(pk=declaration.pk)
        )
        if declaration.status != DeclarationStatus.PENDING or declaration.customer is None:
            raise InvalidTransition(str(NOT_PENDING), code="declaration_not_pending")
        effective = (
            EffectiveMode.IMMEDIATELY
            if declaration.termination == TerminationType.EXTRAORDINARY
            else EffectiveMode.PERIOD_END
        )
        status, case, why = _cancel(
            declaration,
            declaration.customer,
            effective=effective,
            actor=actor,
            jurisdiction=declaration_jurisdiction(declaration.customer),
        )
        now = timezone.now()
        updated = CancellationDeclaration.objects.filter(
            pk=declaration.pk, status=DeclarationStatus.PENDING
        ).update(status=status, case=case, staff_note=why, confirmed_at=now)
        if updated != 1:
            raise InvalidTransition(str(NOT_PENDING), code="declaration_not_pending")
        declaration.status, declaration.case = status, case
        declaration.staff_note, declaration.confirmed_at = why, now
        signals.declaration_confirmed.send(
            sender=CancellationDeclaration, declaration=declaration, case=case, actor=actor
        )
    return declaration


# --- "This was not me" --------------------------------------------------------------------------


def dispute_declaration(
    declaration: CancellationDeclaration, *, actor: Actor = HOLDER
) -> CancellationDeclaration:
    """The account holder says the declaration was not theirs: flag it, undo what it did.

    A cancellation the declaration caused is reactivated through the services (and the backend),
    even once it has taken effect; a waiting one can no longer be confirmed. Idempotent: a
    second click changes nothing.
    """
    with transaction.atomic():
        declaration = CancellationDeclaration.objects.select_for_update().get(pk=declaration.pk)
        if declaration.status == DeclarationStatus.DISPUTED:
            return declaration
        caused = declaration.status == DeclarationStatus.MATCHED
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
            if case.status == CaseStatus.CANCELLED and (caused or case.can_reactivate):
                cases.reactivate(case, actor=actor, after_effect=caused)
                reactivated = True
        signals.declaration_disputed.send(
            sender=CancellationDeclaration,
            declaration=declaration,
            case=case,
            reactivated=reactivated,
        )
        # Outbound webhooks and the staff alert (issue 18), in this transaction.
        enqueue_for_declaration(declaration, "declaration.disputed")
    return declaration
