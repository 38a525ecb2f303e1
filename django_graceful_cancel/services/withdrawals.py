"""The statutory withdrawal function: window, input rules, withdrawal, acknowledgement, refund.

CRD art. 11a (as inserted by Directive (EU) 2023/2673, from 19 June 2026), BGB section 356a and
Code de la consommation L221-21 / D221-5 ask, for contracts concluded online, for a function
labelled "withdraw from contract here" that is available **during the withdrawal period only**,
leads to one page asking for the name, the contract and where to send the acknowledgement, and
is confirmed with a separate "confirm withdrawal" button; the trader then acknowledges the
withdrawal, with the date and time of receipt, on a durable medium (docs/compliance.md,
"Withdrawal function").

* ``window``: whether the function is offered to a customer now (profile, period, subscription).
* ``withdraw``: a signed-in customer withdraws. One transaction moves their case to
  ``withdrawn`` (a withdrawal is not a cancellation), writes the timeline event and sends
  ``case_withdrawn``; after the commit the backend ends the subscription at once (retried like a
  cancellation's sync when it fails: the withdrawal stays recorded) and the acknowledgement is
  emailed. A second submit returns the first withdrawal.
* The no-login page (profiles with ``withdrawal_login_required=False``) reuses the declaration
  page's protections (services/declarations.py): ``receive_withdrawal`` stores what was typed and
  looks nothing up; ``process_withdrawal`` (after the response) matches the account on its own
  email only and, since a withdrawal ends the subscription at once, waits for the account holder
  to confirm it from that address (``confirm_withdrawal``, a signed single-purpose link) or for
  staff. The period is judged at the moment of receipt, whenever the confirmation comes.
* ``mark_refund_done``: staff record the refund the withdrawal calls for (desk task).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .. import dates, signals
from ..backends import get_backend
from ..backends.base import SubscriptionInfo
from ..choices import CaseStatus, EffectiveMode, EventKind, SyncStatus, WithdrawalStatus
from ..compliance import rules_for
from ..conf import app_settings
from ..exceptions import (
    FieldError,
    GracefulCancelError,
    InvalidInput,
    InvalidTransition,
    RateLimited,
)
from ..followups.links import InvalidLink
from ..jurisdiction import Jurisdiction, profile_for, resolve_jurisdiction
from ..models import CancellationCase, Withdrawal
from ..sites import absolute, site_name
from . import cases, inputs
from .core import Actor, lock_case, record, transition
from .declarations import mail_acknowledgement, match_customer

logger = logging.getLogger("django_graceful_cancel")

#: How the account holder's confirmation of a no-login withdrawal appears on the timeline.
HOLDER = "account holder"
#: The signing salt of the account holder's confirmation link (one purpose only).
CONFIRM_SALT = "django_graceful_cancel.withdrawals.confirm"
NAME_MAX_LENGTH = 200
CONTRACT_MAX_LENGTH = 300

# Why a withdrawal waits for staff (``staff_note``, shown in the admin).
NOTHING_TO_WITHDRAW = "no active subscription for this customer"
PERIOD_OVER = "received after the withdrawal period ended ({ends})"
NO_FUNCTION = "the customer's compliance profile has no withdrawal function"
ENDING_ELSEWHERE = (
    "the subscription is already set to end and no case here records it: end it now at the "
    "billing provider and refund every payment"
)
WAITS = (
    "ends the subscription at once: takes effect when the account holder confirms it from the "
    "account address, or when staff apply it"
)
MAIL_LIMITED = "no acknowledgement emailed: too many to this address within the rate window"
NOT_PENDING = _("Only a withdrawal waiting for the account holder or staff can be applied.")


# --- The window -------------------------------------------------------------------------------


def withdrawal_profile(
    customer: Any, request: Any = None, *, subscription: SubscriptionInfo | None = None
) -> str:
    """The compliance profile whose rules apply to ``customer`` (None: a visitor who is not
    signed in) and ``request``: the jurisdiction resolver's (``JURISDICTION_RESOLVER``), mapped
    by ``JURISDICTION_PROFILES``, else ``COMPLIANCE_PROFILE``. The one place this module asks."""
    found = resolve_jurisdiction(customer, request, subscription=subscription)
    return rules_for(profile_for(found)).profile


def withdrawal_days(profile: str) -> int:
    """Days of the withdrawal period under ``profile``: ``WITHDRAWAL_DAYS`` or the profile's."""
    configured = (app_settings.WITHDRAWAL_DAYS or {}).get(str(profile))
    return int(configured) if configured else rules_for(profile).withdrawal_days


def period_ends_at(started_at: datetime, days: int) -> datetime:
    """The first moment after the withdrawal period of a contract concluded at ``started_at``.

    The day of conclusion does not count and the period runs to the end of its last day (BGB
    sections 187(1), 188(1); Regulation 1182/71 art. 3), in the site's time zone: a contract
    concluded on 3 June at 18:00 may be withdrawn from until 17 June, 23:59:59.
    """
    zone = timezone.get_default_timezone()
    last_day = timezone.localtime(started_at, zone).date() + timedelta(days=days)
    return datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)


@dataclass(frozen=True)
class WithdrawalWindow:
    """Whether the withdrawal function is offered for a customer's subscription, and why not."""

    profile: str
    days: int
    subscription: SubscriptionInfo | None
    ends_at: datetime | None
    #: The withdrawal already received for this subscription (the page shows its receipt).
    existing: Withdrawal | None = None
    at: datetime | None = None

    @property
    def last_moment(self) -> datetime | None:
        """The last moment of the period, as the pages show it ("17 June, 23:59 (CEST)")."""
        return self.ends_at - timedelta(microseconds=1) if self.ends_at else None

    @property
    def applies(self) -> bool:
        """The profile has a withdrawal function at all."""
        return rules_for(self.profile).withdrawal_function

    @property
    def open(self) -> bool:
        """The function is offered: a withdrawal sent now is within the period."""
        if not self.applies or self.subscription is None or self.ends_at is None:
            return False
        if self.existing is not None:
            return False
        return (self.at or timezone.now()) < self.ends_at


def window(
    customer: Any,
    *,
    profile: str | None = None,
    info: SubscriptionInfo | None = None,
    at: datetime | None = None,
) -> WithdrawalWindow:
    """The withdrawal window of the customer's active subscription (``at``: now by default).

    Asks the backend unless ``info`` is given; raises ``BackendError`` when it cannot answer. A
    subscription whose start the backend does not report has no window: the period cannot be
    known (docs/backends.md asks backends for ``started_at``).
    """
    if info is None and customer is not None:
        info = get_backend().get_active_subscription(customer)
    profile = profile or withdrawal_profile(customer, subscription=info)
    days = withdrawal_days(profile)
    if info is not None and not info.is_active:
        info = None
    ends_at = period_ends_at(info.started_at, days) if info and info.started_at else None
    existing = (
        Withdrawal.objects.filter(
            subscription_ref=info.reference, status=WithdrawalStatus.WITHDRAWN
        ).first()
        if info is not None
        else None
    )
    return WithdrawalWindow(profile, days, info, ends_at, existing, at)


def window_for(customer: Any, request: Any = None) -> WithdrawalWindow:
    """The customer's window under the profile of their jurisdiction (``withdrawal_profile``),
    asking the backend once for both. Raises ``BackendError`` when it cannot answer."""
    info = get_backend().get_active_subscription(customer)
    profile = withdrawal_profile(customer, request, subscription=info)
    return window(customer, profile=profile, info=info)


# --- Input rules ------------------------------------------------------------------------------


def check_withdrawal(
    *, name: str | None, email: str | None, subscription: str | None, window: WithdrawalWindow
) -> tuple[str, str]:
    """The input rules of the withdrawal page; returns the trimmed ``(name, email)``.

    Raises ``InvalidInput`` naming every bad field: a name is given; the acknowledgement's
    address is an address; the contract is the customer's own active subscription and the
    withdrawal period still runs (``subscription``: ``unknown_subscription``,
    ``no_withdrawal_function``, ``withdrawal_period_over``). Nothing else is asked: no reason.
    """
    errors: dict[str, list[FieldError]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [FieldError("name_required", _("Please give your name."))]
    else:
        try:
            name = inputs.check_text(name, field="name")[:NAME_MAX_LENGTH]
        except InvalidInput as error:
            errors.update(error.errors)
    try:
        email = inputs.check_email(email, field="email")
    except InvalidInput as error:
        errors.update(error.errors)
    info = window.subscription
    if info is None or (subscription or "") != info.reference:
        errors["subscription"] = [
            FieldError("unknown_subscription", _("Please choose your subscription."))
        ]
    elif not window.applies:
        errors["subscription"] = [
            FieldError(
                "no_withdrawal_function",
                _("The withdrawal function is not available for this contract."),
            )
        ]
    elif window.existing is None and not window.open:
        errors["subscription"] = [
            FieldError(
                "withdrawal_period_over",
                _(
                    "The withdrawal period for this contract has ended. You can still cancel "
                    "your subscription."
                ),
            )
        ]
    if errors:
        raise InvalidInput(errors)
    return name, email or ""


# --- Withdrawing (signed in) ------------------------------------------------------------------


def withdraw(
    customer: Any,
    *,
    name: str,
    email: str,
    subscription: str,
    language: str | None = None,
    time_zone: str = "",
    profile: str | None = None,
    jurisdiction: Jurisdiction | None = None,
    actor: Actor = None,
) -> Withdrawal:
    """A signed-in customer withdraws from ``subscription`` (their own, by its reference).

    ``jurisdiction`` is the customer's as the page or the API resolved it
    (``resolve_jurisdiction(customer, request)``, which may have read the CDN's country header);
    the case records it. Without it the case gets the billing address's, or the default.

    Idempotent: while a withdrawal of that subscription exists, it is returned and nothing else
    happens. Raises ``InvalidInput`` (see ``check_withdrawal``) and ``BackendError`` when the
    backend cannot say what the customer has; after the commit nothing raises: the backend's end
    of the subscription is retried like a cancellation's, and the withdrawal stays recorded.
    """
    received_at = timezone.now()
    # The customer's own withdrawal of that subscription, even once the backend ended it.
    earlier = Withdrawal.objects.filter(
        customer_id=getattr(customer, "pk", None),
        subscription_ref=subscription or "",
        status=WithdrawalStatus.WITHDRAWN,
    ).first()
    if earlier is not None:
        return earlier
    current = window(customer, profile=profile, at=received_at)
    name, email = check_withdrawal(
        name=name, email=email, subscription=subscription, window=current
    )
    assert current.subscription is not None  # checked above
    withdrawal = Withdrawal(
        name=name,
        email=email,
        contract=(current.subscription.plan or current.subscription.reference)[
            :CONTRACT_MAX_LENGTH
        ],
        language=(language or translation.get_language() or "")[:16],
        time_zone=dates.known_zone(time_zone),
        compliance_profile=current.profile,
        received_at=received_at,
        signed_in=True,
        customer=customer,
        subscription_ref=current.subscription.reference,
    )
    with transaction.atomic():
        withdrawal = _apply(
            withdrawal,
            customer,
            current.subscription,
            actor=actor or customer,
            jurisdiction=jurisdiction,
        )
    _after_commit(withdrawal)
    return withdrawal


def _refund_amount(info: SubscriptionInfo) -> Decimal | None:
    """What the customer paid, when the backend says (``extra["amount_paid"]``), else the price
    of the period (a trial's price was not paid: the desk says to check the payments)."""
    paid = info.extra.get("amount_paid") if info.extra else None
    if paid is not None:
        try:
            return Decimal(str(paid))
        except InvalidOperation:
            return None
    return info.price


def _case_to_withdraw(
    withdrawal: Withdrawal,
    customer: Any,
    info: SubscriptionInfo,
    actor: Actor,
    jurisdiction: Jurisdiction | None = None,
) -> CancellationCase | None:
    """The case the withdrawal moves: the open one (opened here when none), or the cancellation
    not yet in effect of the same subscription (a withdrawal ends it at once, and refunds)."""
    try:
        case, _created = cases.start_case(
            customer,
            language=withdrawal.language,
            time_zone=withdrawal.time_zone,
            compliance_profile=withdrawal.compliance_profile or None,
            # The case records where the customer is, as a case started in the flow does (the
            # evidence record shows it): the caller's (it saw the request), else the billing
            # address or the default.
            jurisdiction=jurisdiction or resolve_jurisdiction(customer, subscription=info),
            actor=actor,
        )
    except InvalidTransition as error:
        if error.code != "already_cancelled":
            raise
        return (
            CancellationCase.objects.filter(
                subscription_ref=info.reference, status=CaseStatus.CANCELLED
            )
            .order_by("-created_at")
            .first()
        )
    return case


def _apply(
    withdrawal: Withdrawal,
    customer: Any,
    info: SubscriptionInfo,
    *,
    actor: Actor,
    jurisdiction: Jurisdiction | None = None,
) -> Withdrawal:
    """Inside the caller's transaction: withdraw the case, or record the withdrawal for staff."""
    case = _case_to_withdraw(withdrawal, customer, info, actor, jurisdiction)
    if case is not None:
        case = lock_case(case)
    # Under the case's lock, so two submits at once make one withdrawal.
    earlier = Withdrawal.objects.filter(
        subscription_ref=info.reference, status=WithdrawalStatus.WITHDRAWN
    ).first()
    if earlier is not None:
        if withdrawal.pk is not None:
            Withdrawal.objects.filter(pk=withdrawal.pk).update(
                status=WithdrawalStatus.RECORDED,
                staff_note=f"a second withdrawal of {earlier.reference}",
            )
        return earlier
    amount = _refund_amount(info)
    withdrawal.customer = customer
    withdrawal.subscription_ref = info.reference
    withdrawal.refund_amount = amount
    withdrawal.refund_currency = (info.currency or "")[:3].upper() if amount is not None else ""
    if case is None:
        withdrawal.status = WithdrawalStatus.RECORDED
        withdrawal.staff_note = ENDING_ELSEWHERE
        withdrawal.save()
        return withdrawal
    now = timezone.now()
    transition(
        case,
        [CaseStatus.OPEN, CaseStatus.CANCELLED],
        CaseStatus.WITHDRAWN,
        code="case_not_withdrawable",
        closed_at=now,
        effective_mode=EffectiveMode.IMMEDIATELY,
        effective_at=now,
        provider_sync=SyncStatus.PENDING,
        provider_sync_error="",
        provider_sync_attempts=0,
        provider_sync_next_at=None,
    )
    withdrawal.status = WithdrawalStatus.WITHDRAWN
    withdrawal.case = case
    withdrawal.withdrawn_at = now
    withdrawal.staff_note = ""
    withdrawal.save()
    _stop_followups(case)
    record(
        case,
        EventKind.WITHDRAWN,
        signals.case_withdrawn,
        actor=actor,
        data={
            "withdrawal": withdrawal.reference,
            "received_at": withdrawal.received_at.isoformat(),
            "profile": withdrawal.compliance_profile,
            "signed_in": withdrawal.signed_in,
        },
        withdrawal=withdrawal,
    )
    return withdrawal


def _stop_followups(case: CancellationCase) -> None:
    """A withdrawn case gets none of a cancellation's messages (its acknowledgement is its own):
    their "your subscription ends on ..." would no longer be true."""
    from ..followups.outbox import stop_sequence

    stop_sequence(case, why="withdrawn")


def _after_commit(withdrawal: Withdrawal) -> None:
    pk, case_pk = withdrawal.pk, withdrawal.case_id
    transaction.on_commit(lambda: _finish_safely(pk, case_pk), robust=True)


def _finish_safely(pk: int, case_pk: int | None) -> None:
    """End the subscription at the backend (the sync, retried like a cancellation's), then
    acknowledge. Neither can undo the withdrawal."""
    if case_pk is not None:
        try:
            cases.retry_provider_sync(case_pk)
        except Exception:
            logger.exception("Could not end the subscription of withdrawn case %s", case_pk)
    try:
        send_acknowledgement(pk)
    except Exception:
        logger.exception("Could not acknowledge withdrawal %s", pk)


# --- Acknowledging ----------------------------------------------------------------------------


def is_account_address(withdrawal: Withdrawal) -> bool:
    """Whether the acknowledgement's address is the matched account's own."""
    customer = withdrawal.customer
    if customer is None:
        return False
    own = str(getattr(customer, customer.get_email_field_name(), "") or "")
    return bool(own) and own.lower() == withdrawal.email.strip().lower()


def send_acknowledgement(pk: int) -> int:
    """Email the acknowledgement (durable medium) in the customer's language; returns how many
    messages went out (0 or 1; once per withdrawal).

    A signed-in customer's goes to the address they gave. From the no-login page it carries the
    contract and the confirmation link only to the account's own address; to any other address
    only the sender's name, the reference and the date and time of receipt, at most
    ``DECLARATION_MAIL_LIMIT`` per address and window.
    """
    withdrawal = Withdrawal.objects.select_related("case", "customer").get(pk=pk)
    if withdrawal.acknowledged_at is not None or not withdrawal.email:
        return 0
    own = withdrawal.signed_in or is_account_address(withdrawal)
    if not withdrawal.signed_in and _mail_limit_reached(withdrawal):
        note = f"{withdrawal.staff_note}; {MAIL_LIMITED}" if withdrawal.staff_note else ""
        Withdrawal.objects.filter(pk=pk).update(staff_note=note or MAIL_LIMITED)
        return 0
    waiting = own and withdrawal.status == WithdrawalStatus.PENDING
    context = {
        "withdrawal": withdrawal,
        "site_name": site_name(),
        "details": own,
        "acknowledgement_url": absolute(withdrawal.acknowledgement_path) if own else "",
        "confirm_url": absolute(confirmation_path(withdrawal)) if waiting else "",
        "confirm_days": app_settings.DECLARATION_CONFIRM_DAYS,
    }
    mail_acknowledgement(
        "django_graceful_cancel/withdrawal/acknowledgement",
        context,
        language=withdrawal.language,
        to=withdrawal.email,
        kind="withdrawal",
        reference=withdrawal.reference,
    )
    Withdrawal.objects.filter(pk=pk).update(acknowledged_at=timezone.now())
    return 1


# --- The no-login page ------------------------------------------------------------------------


def client_hash(address: str) -> str:
    """A keyed hash of the client address: rate limiting without storing the address."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"gc-withdrawal:{address}".encode(), hashlib.sha256).hexdigest()


def _window_start() -> datetime:
    return timezone.now() - timedelta(minutes=app_settings.DECLARATION_RATE_WINDOW_MINUTES)


def check_rate_limit(*, client: str, email: str = "") -> None:
    """Raise ``RateLimited`` past ``DECLARATION_RATE_LIMIT`` withdrawals per client address or
    email address within ``DECLARATION_RATE_WINDOW_MINUTES`` (the declaration page's limits)."""
    limit = app_settings.DECLARATION_RATE_LIMIT
    if not limit:
        return
    recent = Withdrawal.objects.filter(received_at__gte=_window_start(), signed_in=False)
    if client and recent.filter(client_hash=client_hash(client)).count() >= limit:
        raise RateLimited()
    if email and recent.filter(email__iexact=email.strip()).count() >= limit:
        raise RateLimited()


def _mail_limit_reached(withdrawal: Withdrawal) -> bool:
    limit = app_settings.DECLARATION_MAIL_LIMIT
    if not limit:
        return False
    sent = Withdrawal.objects.filter(
        email__iexact=withdrawal.email, acknowledged_at__gte=_window_start()
    ).exclude(pk=withdrawal.pk)
    return sent.count() >= limit


def receive_withdrawal(
    *,
    name: str,
    email: str,
    contract: str = "",
    language: str | None = None,
    time_zone: str = "",
    client: str = "",
    profile: str | None = None,
) -> Withdrawal:
    """Store a withdrawal from the no-login page as received; ``process_withdrawal`` follows.

    ``profile`` is the visitor's (``withdrawal_profile(None, request)``); matching re-reads the
    account's own when it has one.

    Raises ``InvalidInput`` (name, email) and ``RateLimited``. Looks nothing up: what it does,
    and how long it takes, is the same whether or not it names an account.
    """
    errors: dict[str, list[FieldError]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [FieldError("name_required", _("Please give your name."))]
    try:
        email = inputs.check_email(email, field="email")
    except InvalidInput as error:
        errors.update(error.errors)
    try:
        contract = inputs.check_text((contract or "").strip(), field="contract")
    except InvalidInput as error:
        errors.update(error.errors)
    if errors:
        raise InvalidInput(errors)
    check_rate_limit(client=client, email=email)
    return Withdrawal.objects.create(
        name=name[:NAME_MAX_LENGTH],
        email=email,
        contract=contract[:CONTRACT_MAX_LENGTH],
        language=(language or translation.get_language() or "")[:16],
        time_zone=dates.known_zone(time_zone),
        compliance_profile=rules_for(profile).profile,
        client_hash=client_hash(client) if client else "",
    )


def process_withdrawal(pk: int) -> Withdrawal | None:
    """Match a received no-login withdrawal to the account whose own email it gives, then hold
    it for the account holder's confirmation, or record it for staff; acknowledge it after the
    commit. Returns None when it was processed already."""
    with transaction.atomic():
        withdrawal = (
            Withdrawal.objects.select_for_update()
            .filter(pk=pk, status=WithdrawalStatus.RECEIVED)
            .first()
        )
        if withdrawal is None:
            return None
        customer, why = match_customer(withdrawal)
        status: str = WithdrawalStatus.RECORDED
        if customer is not None:
            withdrawal.customer = customer
            status, why = _settle(withdrawal, customer)
        withdrawal.status = status
        withdrawal.staff_note = why
        withdrawal.save(
            update_fields=[
                "customer",
                "subscription_ref",
                "compliance_profile",
                "status",
                "staff_note",
            ]
        )
        transaction.on_commit(lambda: _acknowledge_safely(pk))
    return withdrawal


def _settle(withdrawal: Withdrawal, customer: Any) -> tuple[str, str]:
    """``(status, why)`` for a no-login withdrawal matched to ``customer`` by its own email; the
    period is judged at the moment of receipt."""
    # The account's own profile (its billing country) wins over the visitor's request.
    current = window(customer, at=withdrawal.received_at)
    withdrawal.compliance_profile = current.profile
    if current.subscription is None:
        return WithdrawalStatus.RECORDED, NOTHING_TO_WITHDRAW
    withdrawal.subscription_ref = current.subscription.reference
    if not current.applies:
        return WithdrawalStatus.RECORDED, NO_FUNCTION
    if current.existing is None and not current.open:
        ends = current.ends_at.isoformat() if current.ends_at else "unknown"
        return WithdrawalStatus.RECORDED, PERIOD_OVER.format(ends=ends)
    return WithdrawalStatus.PENDING, WAITS


def _acknowledge_safely(pk: int) -> None:
    try:
        send_acknowledgement(pk)
    except Exception:
        logger.exception("Could not acknowledge withdrawal %s", pk)


def process_pending_withdrawals(*, older_than_minutes: int = 2, limit: int = 500) -> int:
    """Process no-login withdrawals left ``received`` (the process stopped before it could)."""
    since = timezone.now() - timedelta(minutes=older_than_minutes)
    pks = list(
        Withdrawal.objects.filter(status=WithdrawalStatus.RECEIVED, received_at__lt=since)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in pks if process_withdrawal(pk) is not None)


def confirmation_token(withdrawal: Withdrawal) -> str:
    """The signed token of the account holder's confirmation link: its own salt, expires after
    ``DECLARATION_CONFIRM_DAYS``, works only while the withdrawal is ``pending``."""
    return signing.dumps({"w": withdrawal.pk}, salt=CONFIRM_SALT)


def confirmation_path(withdrawal: Withdrawal) -> str:
    try:
        return reverse("graceful_cancel:withdrawal_confirm", args=[confirmation_token(withdrawal)])
    except NoReverseMatch:  # the host did not include django_graceful_cancel.urls
        return ""


def read_confirmation_token(token: str) -> Withdrawal:
    """The withdrawal a confirmation link names; raises ``InvalidLink`` ("invalid"/"expired").
    Valid only while the account's address is still the one the link was sent to."""
    max_age = int(app_settings.DECLARATION_CONFIRM_DAYS) * 86400
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise InvalidLink("expired") from error
    except signing.BadSignature as error:
        raise InvalidLink("invalid") from error
    if not isinstance(data, dict) or not isinstance(data.get("w"), int):
        raise InvalidLink("invalid")
    withdrawal = Withdrawal.objects.select_related("customer").filter(pk=data["w"]).first()
    if withdrawal is None or not is_account_address(withdrawal):
        raise InvalidLink("invalid")
    return withdrawal


def confirm_withdrawal(withdrawal: Withdrawal, *, actor: Actor = HOLDER) -> Withdrawal:
    """Make a waiting (``pending``) no-login withdrawal effective: the account holder confirmed
    it from the account address, or staff (``actor``) checked it. Raises
    ``InvalidTransition("withdrawal_not_pending")`` for any other withdrawal; ``BackendError``
    when the backend cannot say what the customer has (nothing changes)."""
    with transaction.atomic():
        withdrawal = (
            Withdrawal.objects.select_for_update(of=("self",))
            .select_related("customer")
            .get(pk=withdrawal.pk)
        )
        if withdrawal.status != WithdrawalStatus.PENDING or withdrawal.customer is None:
            raise InvalidTransition(str(NOT_PENDING), code="withdrawal_not_pending")
        customer = withdrawal.customer
        info = get_backend().get_active_subscription(customer)
        if info is None or not info.is_active or info.reference != withdrawal.subscription_ref:
            withdrawal.status = WithdrawalStatus.RECORDED
            withdrawal.staff_note = NOTHING_TO_WITHDRAW
            withdrawal.save(update_fields=["status", "staff_note"])
            return withdrawal
        try:
            result = _apply(withdrawal, customer, info, actor=actor)
        except GracefulCancelError as error:
            withdrawal.status = WithdrawalStatus.RECORDED
            withdrawal.staff_note = f"could not be applied: {error.code}"
            withdrawal.save(update_fields=["status", "staff_note"])
            return withdrawal
        if result.pk == withdrawal.pk and result.status == WithdrawalStatus.WITHDRAWN:
            # The acknowledgement of receipt went out already; this one says the contract ended.
            Withdrawal.objects.filter(pk=result.pk).update(acknowledged_at=None)
            _after_commit(result)
    return result


# --- The refund (staff) -----------------------------------------------------------------------


def mark_refund_done(withdrawal: Withdrawal, *, actor: Actor, note: str = "") -> Withdrawal:
    """Staff refunded every payment the withdrawal calls for (CRD art. 13, BGB section 357,
    L221-24): the desk task is done, the case's timeline says so. Idempotent."""
    with transaction.atomic():
        withdrawal = Withdrawal.objects.select_for_update().get(pk=withdrawal.pk)
        if withdrawal.status != WithdrawalStatus.WITHDRAWN or withdrawal.case_id is None:
            raise InvalidTransition(code="withdrawal_not_withdrawn")
        if withdrawal.refunded_at is not None:
            return withdrawal
        case = lock_case(withdrawal.case_id)
        withdrawal.refunded_at = timezone.now()
        withdrawal.refunded_by = actor if getattr(actor, "pk", None) else None
        withdrawal.refund_note = (note or "").strip()[:2000]
        withdrawal.save(update_fields=["refunded_at", "refunded_by", "refund_note"])
        amount = str(withdrawal.refund_amount) if withdrawal.refund_amount is not None else None
        record(
            case,
            EventKind.REFUND_DONE,
            signals.withdrawal_refunded,
            actor=actor,
            data={
                "withdrawal": withdrawal.reference,
                "amount": amount,
                "currency": withdrawal.refund_currency,
                "note": withdrawal.refund_note[:500],
            },
            withdrawal=withdrawal,
        )
    return withdrawal
