"""What Ledgerly adds to its settings.py (docs/quickstart.md shows this block; tested)."""

GRACEFUL_CANCEL = {
    "SUBSCRIPTION_MODEL": "saas.Subscription",
    "SUBSCRIPTION_FIELDS": {
        "customer": "owner",
        "status": "state",
        "plan": "plan",
        "price": "price__amount",
        "currency": "price__currency",
        "interval": "price__interval",
        "started_at": "started",
        "current_period_end": "renews_at",
        "auto_renew": "auto_renew",
        "canceled_at": "canceled_on",
    },
    "SUBSCRIPTION_ACTIVE_STATUSES": ["active", "trial"],
    "SUBSCRIPTION_CANCELED_STATUS": "ended",
    "SITE_NAME": "Ledgerly",
    "SITE_URL": "https://app.ledgerly.example",
    "BASE_TEMPLATE": "saas/graceful_cancel_base.html",
    "ACCOUNT_URL": "saas:billing",
    "FOLLOWUP_DISPATCH": "inline",
    "OFFER_FULFILMENT": {"discount": "tests.hosts.saas.billing.grant_discount"},
}
