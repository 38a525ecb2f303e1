"""Helpers for the Stripe tests: a localstripe server on loopback, data seeding, the backend's
settings, and a recording HTTP client for the Stripe SDK (for what localstripe does not
implement)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

from tests.support import free_port, gc_settings, port_open

SERVER_SCRIPT = Path(__file__).resolve().parent.parent / "localstripe_server.py"
API_KEY = "sk_test_graceful_cancel"
BACKEND = "django_graceful_cancel.backends.stripe.StripeSubscriptionBackend"


@dataclass
class LocalStripe:
    url: str
    process: subprocess.Popen[bytes] | None

    def client(self, **kwargs: Any) -> stripe.StripeClient:
        return stripe.StripeClient(
            kwargs.pop("api_key", API_KEY),
            base_addresses={"api": self.url},
            max_network_retries=0,
            **kwargs,
        )


@contextmanager
def start_localstripe() -> Iterator[LocalStripe | None]:
    """Start localstripe on a free loopback port; yields None when it cannot start."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SERVER_SCRIPT), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # Waiting for the port is not a timed assertion: the tests skip (or fail on CI) if the
        # server never comes up.
        for _ in range(200):
            if process.poll() is not None or port_open("127.0.0.1", port):
                break
            time.sleep(0.05)
        if process.poll() is not None or not port_open("127.0.0.1", port):
            yield None
            return
        yield LocalStripe(url=f"http://127.0.0.1:{port}", process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


# --- seeding -----------------------------------------------------------------------------------

PLANS = {
    # plan code -> (localstripe plan id, amount in cents, nickname)
    "basic": ("basic-monthly", 799, "Basic"),
    "standard": ("standard-monthly", 1299, "Standard"),
    "premium": ("premium-monthly", 1999, "Premium"),
}
STRIPE_PRICES = {code: plan_id for code, (plan_id, _amount, _nick) in PLANS.items()}


def stripe_settings(url: str, **overrides: Any) -> dict[str, Any]:
    """GRACEFUL_CANCEL on the Stripe backend against the server at ``url``; each user's Stripe
    customer id is in their ``last_name``."""
    values: dict[str, Any] = {
        "SUBSCRIPTION_BACKEND": BACKEND,
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_API_BASE": url,
        "STRIPE_MAX_NETWORK_RETRIES": 0,
        "STRIPE_CUSTOMER_LOOKUP": "last_name",
        "STRIPE_PRICES": STRIPE_PRICES,
        # localstripe rejects proration_behavior on updates; the recorded tests check it is sent.
        "STRIPE_EXTENSION_PRORATION_BEHAVIOR": None,
        # localstripe rejects cancellation_details too; the recorded tests check it is sent.
        "STRIPE_SEND_CANCELLATION_DETAILS": False,
    }
    return gc_settings(**{**values, **overrides})


def ensure_plans(client: stripe.StripeClient) -> None:
    """Create the product and the three monthly plans once per server."""
    try:
        client.v1.plans.retrieve(PLANS["basic"][0])
        return
    except stripe.InvalidRequestError:
        pass
    product = client.v1.products.create({"name": "Example Streaming"})
    for plan_id, amount, nickname in PLANS.values():
        client.v1.plans.create(
            {
                "id": plan_id,
                "amount": amount,
                "currency": "eur",
                "interval": "month",
                "product": str(product.id),
                "nickname": nickname,
            }
        )


def seed_customer(
    client: stripe.StripeClient, email: str, *, plan: str = "standard"
) -> tuple[str, str]:
    """A customer with a card and an active subscription; returns (customer id, sub id)."""
    ensure_plans(client)
    customer = client.v1.customers.create({"email": email, "name": email.split("@")[0]})
    method = client.v1.payment_methods.create(
        {
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"},
        }
    )
    client.v1.payment_methods.attach(str(method.id), {"customer": str(customer.id)})
    client.v1.customers.update(
        str(customer.id), {"invoice_settings": {"default_payment_method": str(method.id)}}
    )
    sub = client.v1.subscriptions.create(
        {"customer": str(customer.id), "items": [{"plan": PLANS[plan][0]}]}
    )
    assert sub.status == "active"
    return str(customer.id), str(sub.id)


# --- recording ---------------------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


Responder = Callable[[Recorded], tuple[int, dict[str, Any]]]


@dataclass
class RecordingHTTPClient(stripe.HTTPClient):
    """An SDK HTTP client that records each request and answers from canned responses.

    ``routes`` maps "METHOD /v1/path" to a dict (answered with 200) or a callable returning
    ``(status, body)``; anything else is a 404 ``resource_missing``, as Stripe would say.
    The form is kept flat as the SDK encodes it ("items[0][price]": "price_..."), so a test
    asserts the exact parameters Stripe receives.
    """

    routes: dict[str, dict[str, Any] | Responder] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    name = "recording"

    def __post_init__(self) -> None:
        super().__init__()

    def request(
        self,
        method: str,
        url: str,
        headers: Any,
        post_data: Any = None,
        *,
        _usage: Any = None,
    ) -> tuple[str, int, dict[str, str]]:
        parts = urlsplit(url)
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        recorded = Recorded(
            method=method.upper(),
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            form=dict(parse_qsl(body, keep_blank_values=True)),
            headers=dict(headers or {}),
        )
        self.requests.append(recorded)
        answer = self.routes.get(f"{recorded.method} {recorded.path}")
        if answer is None:
            status, payload = 404, error_body("invalid_request_error", "resource_missing")
        elif callable(answer):
            status, payload = answer(recorded)
        else:
            status, payload = 200, answer
        return json.dumps(payload), status, {"request-id": f"req_{len(self.requests)}"}

    def close(self) -> None:
        pass

    def calls(self, method: str | None = None) -> list[str]:
        return [
            f"{r.method} {r.path}" for r in self.requests if method is None or r.method == method
        ]


def error_body(kind: str, code: str = "", message: str = "Refused") -> dict[str, Any]:
    return {"error": {"type": kind, "code": code, "message": message}}


def subscription_body(
    sub_id: str = "sub_rec",
    *,
    price: str = "price_standard",
    amount: int = 1299,
    period_end: int | None = None,
    status: str = "active",
    **extra: Any,
) -> dict[str, Any]:
    """A subscription as today's API returns it (billing period on the item, Prices)."""
    now = int(time.time())
    end = period_end or now + 20 * 86400
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": "cus_rec",
        "status": status,
        "created": now - 400 * 86400,
        "start_date": now - 400 * 86400,
        "cancel_at_period_end": False,
        "cancel_at": None,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_rec",
                    "object": "subscription_item",
                    "current_period_end": end,
                    "metadata": {},
                    "price": {
                        "id": price,
                        "object": "price",
                        "currency": "eur",
                        "unit_amount": amount,
                        "nickname": "Standard",
                        "lookup_key": None,
                        "recurring": {"interval": "month", "interval_count": 1},
                    },
                }
            ],
        },
        **extra,
    }
