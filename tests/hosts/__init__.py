"""Three small host sites that are not the example site (issue 13, item 7).

Each is a Django app with its own subscription models, migration, base template (its own CSS and
block names, used through the adapter template docs/templates.md shows), an account page with the
cancel link, a URLconf of its own and the ``GRACEFUL_CANCEL`` block it adds to its settings
(``<site>/settings.py``, the same block docs/quickstart.md shows; tested):

* ``magazine``: a Stripe-shaped one-to-one subscription (status choices, ``cancel_at_period_end``);
* ``gym``: a membership with an active flag and an expiry date, its auto-renewal on a related
  ``RenewalSetting``;
* ``saas``: plans in one table and their prices in another (``Plan``, ``Price``).

Each site also has ``data.py`` (its rows for a test, and what its staff do in the admin after
loading the catalogue) and ``billing.py`` (its own renewal job, which must charge nobody who
cancelled).

The tests: ``test_<site>.py`` walk the whole flow through the pages as the customer and assert
what changed in the site's own rows and in the mail; ``test_every_offer.py`` accepts every offer
any reason shows on any site and finds it kept; ``test_quickstart.py`` holds docs/quickstart.md
to what the sites run, and runs the app's system checks on each; ``test_browser.py``
screenshots the offer and confirmation pages inside each site's base template. ``sites.py`` holds
what they share, ``conftest.py`` the fixtures.
"""
