"""What The Weekly Reader adds to its settings.py (docs/quickstart.md shows this block; tested)."""

GRACEFUL_CANCEL = {
    "SUBSCRIPTION_MODEL": "magazine.Subscription",
    "SUBSCRIPTION_FIELDS": {
        "customer": "customer",
        "price": "plan__unit_amount",
        "started_at": "created",
        "cancel_at_period_end": "cancel_at_period_end",
        "canceled_at": "canceled_at",
        "paused_until": "pause_resumes_at",
    },
    "PLAN_LOOKUP_FIELD": "lookup_key",
    "SITE_NAME": "The Weekly Reader",
    "SITE_URL": "https://reader.example",
    "BASE_TEMPLATE": "magazine/graceful_cancel_base.html",
    "ACCOUNT_URL": "magazine:account",
    "FOLLOWUP_DISPATCH": "inline",
    "OFFER_FULFILMENT": {"discount": "staff", "free_feature": "staff", "consultation": "staff"},
}
