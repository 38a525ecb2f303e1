"""The Weekly Reader's German edition: the same site, sold in Germany and the EU as well.

What the magazine adds to its settings.py when it starts selling across borders
(docs/compliance.md, "Where the customer is"): the billing address Stripe keeps for each reader
says where they are (the ``country``/``region`` paths through ``BillingAddress``), the CDN's
country header places visitors who are not signed in, German is the edition's language and
Berlin its clock (the withdrawal period ends at midnight there).
"""

from .settings import GRACEFUL_CANCEL as _EVERYWHERE

GRACEFUL_CANCEL = {
    **_EVERYWHERE,
    "SUBSCRIPTION_FIELDS": {
        **_EVERYWHERE["SUBSCRIPTION_FIELDS"],
        # The contract's conclusion: the withdrawal period runs 14 days from it.
        "started_at": "created",
        "country": "customer__magazine_billing__country",
        "region": "customer__magazine_billing__state",
    },
    "JURISDICTION_HEADER": "CF-IPCountry",
    "JURISDICTION_REGION_HEADER": "CF-Region-Code",
}

#: Django settings of the edition (the tests apply them with ``override_settings``).
DJANGO = {"LANGUAGE_CODE": "de", "TIME_ZONE": "Europe/Berlin"}
