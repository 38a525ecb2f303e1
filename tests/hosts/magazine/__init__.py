"""The Weekly Reader: a digital magazine whose billing mirrors Stripe's subscription object.

One subscription per reader (a one-to-one from the user), Stripe's status choices, a plan found by
its ``lookup_key``, ``cancel_at_period_end`` and Stripe's ``pause_collection.resumes_at`` as a
column.
"""
