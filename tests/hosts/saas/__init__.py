"""Ledgerly: a SaaS whose plans live in one table and their prices in another.

``Plan`` (code, name) and ``Price`` (plan, amount, currency, interval), as a site that sells each
plan monthly and yearly keeps them. A workspace owner's ``Subscription`` points at both, has a
``state`` of its own words ("trial", "active", "ended"), renews on ``renews_at`` while
``auto_renew`` is on, and old subscriptions stay as rows (a foreign key to the user, not a
one-to-one).
"""
