"""What Ironworks Gym adds to its settings.py (docs/quickstart.md shows this block; tested)."""

GRACEFUL_CANCEL = {
    "SUBSCRIPTION_MODEL": "gym.Membership",
    "SUBSCRIPTION_FIELDS": {
        "customer": "member",
        "status": None,
        "active": "is_active",
        "plan": "level",
        "price": "fee",  # read-only values may be properties
        "currency": "currency",
        "started_at": "joined",
        "current_period_end": "expires",
        "auto_renew": "renewal__auto_renew",
    },
    "SITE_NAME": "Ironworks Gym",
    "SITE_URL": "https://ironworks.example",
    "BASE_TEMPLATE": "gym/graceful_cancel_base.html",
    "ACCOUNT_URL": "gym:membership",
    "FOLLOWUP_DISPATCH": "inline",
    "OFFER_FULFILMENT": {"consultation": {"route": "staff", "due_business_days": 1}},
}
