"""Seed Stripe (localstripe, or a Stripe test account) for the demo on the Stripe backend.

Creates, once: a product, one monthly plan per shop plan (ids "basic-monthly", ...), the
"premium-support-monthly" add-on the free-feature offer gives, and for each demo user (run
``load_demo_data`` first) a customer with the user's email, a test card and an active
subscription to the user's plan. Running it again creates only what is missing.

``--webhook-url`` registers the site's webhook with localstripe (its own ``/_config/webhooks``
endpoint), so changes made directly in Stripe reach the cases. See docs/stripe.md.
"""

from __future__ import annotations

from typing import Any

import requests
import stripe
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from django_graceful_cancel.backends.stripe import StripeSubscriptionBackend
from shop.management.commands.load_demo_data import CUSTOMERS, PLANS

FEATURE_PLAN = ("premium-support-monthly", 300, "Premium support")


class Command(BaseCommand):
    help = (
        "Create the demo's plans, customers and subscriptions in Stripe (localstripe by default)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--webhook-url",
            help="localstripe only: POST subscription events to this address "
            "(e.g. http://127.0.0.1:8000/billing/stripe/webhook/).",
        )

    def handle(self, *args: Any, webhook_url: str | None = None, **options: Any) -> None:
        key = str(StripeSubscriptionBackend.get_setting("STRIPE_API_KEY") or "")
        if not key.startswith("sk_test_"):
            raise CommandError("seed_stripe only runs with a test key (sk_test_...).")
        self.local = bool(StripeSubscriptionBackend.get_setting("STRIPE_API_BASE"))
        self.client = StripeSubscriptionBackend().client
        try:
            self._plans()
            made = sum(self._customer(*row) for row in CUSTOMERS)
        except stripe.StripeError as exc:
            raise CommandError(f"Stripe refused: {exc}") from exc
        if webhook_url:
            self._webhook(webhook_url)
        self.stdout.write(f"Stripe ready: {made} new subscriptions, {len(CUSTOMERS)} customers.")

    def _plans(self) -> None:
        try:
            self.client.v1.plans.retrieve(FEATURE_PLAN[0])
            return
        except stripe.InvalidRequestError:
            pass
        product = self.client.v1.products.create({"name": "Example Streaming"})
        rows = [(f"{code}-monthly", int(price * 100), name) for code, name, price in PLANS]
        for plan_id, amount, nickname in [*rows, FEATURE_PLAN]:
            try:
                self.client.v1.plans.retrieve(plan_id)
            except stripe.InvalidRequestError:
                self.client.v1.plans.create(
                    {
                        "id": plan_id,
                        "amount": amount,
                        "currency": "eur",
                        "interval": "month",
                        "product": str(product.id),
                        "nickname": nickname,
                    }
                )

    def _customer(
        self,
        username: str,
        first_name: str,
        lang: str,
        plan: str,
        _tenure: int,
        country: str = "",
        region: str = "",
    ) -> bool:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            self.stderr.write(f"No user {username}: run load_demo_data first.")
            return False
        found = self.client.v1.customers.list({"email": user.email, "limit": 1}).data
        if found:
            customer_id = str(found[0].id)
            live = self.client.v1.subscriptions.list({"customer": customer_id}).data
            if any(s.status in ("active", "trialing", "past_due") for s in live):
                return False
        else:
            customer_id = str(
                self.client.v1.customers.create(
                    self._customer_fields(user, first_name, lang, country, region)
                ).id
            )
            self._card(customer_id)
        self.client.v1.subscriptions.create(
            {"customer": customer_id, "items": [{"plan": f"{plan}-monthly"}]}
        )
        return True

    @staticmethod
    def _customer_fields(
        user: Any, first_name: str, lang: str, country: str, region: str
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "email": user.email,
            "name": first_name,
            "preferred_locales": [lang],
        }
        if country:
            # The billing address places the customer for the law of their place.
            fields["address"] = {"country": country, **({"state": region} if region else {})}
        return fields

    def _card(self, customer_id: str) -> None:
        if self.local:
            # localstripe takes raw test card numbers.
            method_id = str(
                self.client.v1.payment_methods.create(
                    {
                        "type": "card",
                        "card": {
                            "number": "4242424242424242",
                            "exp_month": 12,
                            "exp_year": 2040,
                            "cvc": "123",
                        },
                    }
                ).id
            )
        else:
            method_id = "pm_card_visa"  # Stripe's test-mode card
        method = self.client.v1.payment_methods.attach(method_id, {"customer": customer_id})
        self.client.v1.customers.update(
            customer_id, {"invoice_settings": {"default_payment_method": str(method.id)}}
        )

    def _webhook(self, url: str) -> None:
        base = StripeSubscriptionBackend.get_setting("STRIPE_API_BASE")
        if not base:
            raise CommandError(
                "--webhook-url is for localstripe; on Stripe, add the endpoint in the Dashboard."
            )
        response = requests.post(
            f"{base.rstrip('/')}/_config/webhooks/graceful_cancel_demo",
            data={
                "url": url,
                "secret": StripeSubscriptionBackend.get_setting("STRIPE_WEBHOOK_SECRET") or "",
            },
            timeout=10,
        )
        if response.status_code >= 300:
            raise CommandError(f"localstripe refused the webhook: {response.status_code}")
        self.stdout.write(f"localstripe will post subscription events to {url}.")
