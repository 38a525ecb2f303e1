"""``Idempotency-Key`` for the API's POSTs: a retried request gets the first response.

A client that is unsure whether a POST went through (a timeout, a dropped connection) sends it
again with the same key. The first response (status and body) is stored per customer and key
for ``GRACEFUL_CANCEL["IDEMPOTENCY_KEY_TTL_HOURS"]`` and replayed, with the header
``Idempotent-Replayed: true``, instead of acting twice. The same key with a different request
(another path or body) is refused with 409 ``idempotency_key_reused``; a retry that arrives while
the first request is still running gets 409 ``idempotency_request_in_progress``.

Only answers that a retry would repeat are stored: server errors, throttling and provider
outages (5xx, 429) are not, so retrying those runs the request again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from ..conf import app_settings
from ..models import IdempotencyKey
from .schema import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_MAX_LENGTH

REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyKeyReused(exceptions.APIException):
    # 409 rather than 422: the request itself is valid, it conflicts with an earlier one.
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This Idempotency-Key was already used for a different request.")
    default_code = "idempotency_key_reused"


class IdempotencyRequestInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _(
        "A request with this Idempotency-Key is still being processed; retry in a moment."
    )
    default_code = "idempotency_request_in_progress"


def _fingerprint(request: Request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, cls=JSONEncoder)
    except (TypeError, ValueError):
        body = repr(request.data)
    raw = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _storable(status_code: int) -> bool:
    return status_code < 500 and status_code != status.HTTP_429_TOO_MANY_REQUESTS


def _as_json(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=JSONEncoder))


def _clean_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise exceptions.ValidationError(
            {
                IDEMPOTENCY_HEADER: [
                    _("Send between 1 and %(max)d characters.")
                    % {"max": IDEMPOTENCY_KEY_MAX_LENGTH}
                ]
            }
        )
    return key


def run_idempotent(view: Any, request: Request, call: Callable[[], Response]) -> Response:
    """Run ``call`` once per (customer, key); replay its stored response afterwards."""
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None or not request.user.is_authenticated:
        return call()
    key = _clean_key(raw)
    fingerprint = _fingerprint(request)
    now = timezone.now()
    customer = request.user
    # Expired keys of this customer go now (one indexed delete), so an old key can be reused.
    IdempotencyKey.objects.filter(customer=customer, expires_at__lte=now).delete()
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(
                customer=customer,
                key=key,
                fingerprint=fingerprint,
                method=request.method or "",
                path=request.path[:2000],
                expires_at=now + timedelta(hours=app_settings.IDEMPOTENCY_KEY_TTL_HOURS),
            )
    except IntegrityError:
        return _replay(customer, key, fingerprint)

    try:
        try:
            response = call()
        except Exception as exc:  # noqa: BLE001  (handle_exception re-raises what it cannot map)
            # Turn domain and API errors into their response here, so a 409 or 400 is stored
            # and replayed like a success would be.
            response = view.handle_exception(exc)
    except BaseException:
        record.delete()
        raise
    if _storable(response.status_code):
        record.status_code = response.status_code
        record.response_body = _as_json(response.data)
        record.save(update_fields=["status_code", "response_body"])
    else:
        record.delete()
    return response


def _replay(customer: Any, key: str, fingerprint: str) -> Response:
    existing = IdempotencyKey.objects.filter(customer=customer, key=key).first()
    if existing is not None and existing.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if existing is None or existing.status_code is None:
        # Still running (or it failed and its row was removed a moment ago).
        raise IdempotencyRequestInProgress()
    response = Response(existing.response_body, status=existing.status_code)
    response[REPLAYED_HEADER] = "true"
    return response


def purge_expired_keys() -> int:
    """Delete every expired key (of all customers); returns how many. Safe to run at any time.

    A customer's own expired keys also go whenever they send a key; run this from a periodic
    job (e.g. next to ``graceful_cancel_purge``) so customers who never return leave nothing.
    """
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a view's POST handler: ``Idempotency-Key`` makes it safe to retry."""

    @functools.wraps(method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        return run_idempotent(view, request, lambda: method(view, request, *args, **kwargs))

    return wrapper
