"""Stripe's subscription events, so cases stay in step with changes made outside the flow.

Two ways in, one handler (``handle_event``):

* **Plain SDK**: mount this module's URL and give Stripe the address, with the endpoint's
  signing secret in ``GRACEFUL_CANCEL["STRIPE_WEBHOOK_SECRET"]``::

      path("billing/stripe/", include("django_graceful_cancel.backends.stripe.webhooks")),
      # -> POST /billing/stripe/webhook/  (subscribe it to customer.subscription.updated and
      #    customer.subscription.deleted)

  The view checks the ``Stripe-Signature`` header (HMAC-SHA256 of the timestamped body with
  the secret, within ``STRIPE_WEBHOOK_TOLERANCE`` seconds) before reading anything.
* **dj-stripe**: when dj-stripe is installed, ``AppConfig.ready()`` connects
  ``connect_djstripe()`` to dj-stripe's webhook signals; dj-stripe verifies and stores the event
  and no URL of ours is needed.

The handler only calls the service layer (services/external.py), which records the change on
the subscription's latest case, idempotently on the event id. The module's settings are options
of the Stripe backend (``StripeSubscriptionBackend.options``), read whichever backend is
configured. (Until 0.3 it can also be imported as ``django_graceful_cancel.stripe_webhooks``.)
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import stripe
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ...exceptions import InvalidInput, InvalidTransition
from ...models import CancellationCase
from ...services.external import record_external_cancellation, record_external_reactivation
from ...services.pauses import record_external_resume, record_pause_cancelled
from ...services.returns import complete_return
from .backend import StripeSubscriptionBackend, reason_for_feedback

logger = logging.getLogger("django_graceful_cancel")

HANDLED_EVENTS = (
    "customer.subscription.deleted",
    "customer.subscription.updated",
    # Native pause (docs/stripe.md, "Pauses"): the pause record follows them.
    "customer.subscription.paused",
    "customer.subscription.resumed",
    # A come-back Checkout Session was paid (docs/returns.md): the return completes even when
    # the customer never gets back to the success page.
    "checkout.session.completed",
)


def _when(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _period_end(sub: dict[str, Any]) -> Any:
    items = (sub.get("items") or {}).get("data") or []
    item_end = items[0].get("current_period_end") if items else None
    return item_end or sub.get("current_period_end")


def _feedback(sub: dict[str, Any]) -> dict[str, Any]:
    """The portal's ``cancellation_details`` as ``record_external_cancellation``'s reason (the
    catalogue slug, by the reverse of ``STRIPE_FEEDBACK_CODES``), words and feedback code."""
    details = sub.get("cancellation_details") or {}
    code = str(details.get("feedback") or "")
    return {
        "reason": reason_for_feedback(code),
        "detail": str(details.get("comment") or ""),
        "feedback": code,
    }


def handle_event(event: dict[str, Any]) -> CancellationCase | None:
    """Apply one Stripe event (as a dict) to the cases; returns the case it touched, if any."""
    kind = event.get("type")
    data = event.get("data") or {}
    sub = data.get("object") or {}
    previous = data.get("previous_attributes") or {}
    event_id = str(event.get("id") or "")
    ref = sub.get("id")
    if kind == "checkout.session.completed":
        return _return_paid(sub)
    if kind not in HANDLED_EVENTS or sub.get("object", "subscription") != "subscription" or not ref:
        return None
    try:
        if kind == "customer.subscription.resumed":
            pause = record_external_resume(ref, event_id=event_id)
            return pause.case if pause is not None else None
        if kind == "customer.subscription.paused":
            # Our own native pause echoed back (the pause record exists already), or a pause
            # made in Stripe's dashboard, which has no end date to remind anyone of: logged only.
            logger.info("Stripe paused %s (event %s).", ref, event_id)
            return None
        if (
            previous.get("pause_collection")
            and not sub.get("pause_collection")
            and sub.get("status") != "canceled"
        ):
            # pause_collection removed: Stripe resumed it at resumes_at, or someone did early.
            # Its own event id suffix keeps the cancellation checks below from seeing it.
            record_external_resume(ref, event_id=f"{event_id}:pause" if event_id else "")
        if kind == "customer.subscription.deleted" or sub.get("status") == "canceled":
            case = record_external_cancellation(
                ref,
                immediately=True,
                effective_at=_when(sub.get("ended_at")),
                event_id=event_id,
                **_feedback(sub),
            )
            # Cancelled while paused (the latest case may be the saved one that paused it).
            record_pause_cancelled(ref, actor="stripe", event_id=event_id)
            return case
        scheduled = bool(sub.get("cancel_at_period_end") or sub.get("cancel_at"))
        touched = "cancel_at_period_end" in previous or "cancel_at" in previous
        was_scheduled = bool(previous.get("cancel_at_period_end") or previous.get("cancel_at"))
        if touched and scheduled and not was_scheduled:
            case = record_external_cancellation(
                ref,
                immediately=False,
                effective_at=_when(sub.get("cancel_at") or _period_end(sub)),
                event_id=event_id,
                **_feedback(sub),
            )
            record_pause_cancelled(ref, actor="stripe", event_id=event_id)
            return case
        if touched and was_scheduled and not scheduled:
            return record_external_reactivation(ref, event_id=event_id)
    except InvalidTransition:
        # A concurrent change won; the event described a state the case has already left.
        logger.info("Stripe event %s arrived after the case changed; ignored.", event_id)
    return None


def _return_paid(session: dict[str, Any]) -> CancellationCase | None:
    """Complete the return a come-back Checkout Session was made for (``services.returns``,
    which asks Stripe again whether it is paid); any other session is not ours."""
    metadata = session.get("metadata") or {}
    reference = str(metadata.get("graceful_cancel_case") or "")
    if not metadata.get("graceful_cancel_return") or not reference or not session.get("id"):
        return None
    case = CancellationCase.objects.filter(reference=reference).first()
    if case is None:
        return None
    try:
        complete_return(case, checkout_ref=str(session["id"]), actor="stripe")
    except (InvalidTransition, InvalidInput):
        logger.info("Stripe checkout %s names no return of case %s.", session["id"], reference)
        return None
    return case


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    secret = StripeSubscriptionBackend.get_setting("STRIPE_WEBHOOK_SECRET")
    if not secret:
        logger.error('Stripe webhook refused: GRACEFUL_CANCEL["STRIPE_WEBHOOK_SECRET"] is unset.')
        return HttpResponse("Webhook secret not configured.", status=503)
    try:
        payload = request.body.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            payload,
            request.headers.get("Stripe-Signature", ""),
            secret,
            StripeSubscriptionBackend.get_setting("STRIPE_WEBHOOK_TOLERANCE"),
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
        return HttpResponse("Invalid signature or payload.", status=400)
    if not isinstance(event, dict):
        return HttpResponse("Invalid payload.", status=400)
    handle_event(event)
    return HttpResponse(status=200)


def djstripe_receiver(sender: Any = None, event: Any = None, **kwargs: Any) -> None:
    """Receiver of dj-stripe's webhook signals: the event dj-stripe verified, to ``handle_event``."""
    if event is None:
        return
    handle_event(
        {
            "id": getattr(event, "id", ""),
            "type": getattr(event, "type", ""),
            "data": getattr(event, "data", None) or {},
        }
    )


def connect_djstripe() -> bool:
    """Receive subscription events through dj-stripe's signals; False without dj-stripe."""
    try:
        from djstripe.signals import WEBHOOK_SIGNALS
    except ImportError:
        return False
    for kind in HANDLED_EVENTS:
        signal = WEBHOOK_SIGNALS.get(kind)
        if signal is not None:
            signal.connect(djstripe_receiver, dispatch_uid=f"graceful_cancel:{kind}")
    return True


urlpatterns = [
    path("webhook/", stripe_webhook, name="graceful_cancel_stripe_webhook"),
]
