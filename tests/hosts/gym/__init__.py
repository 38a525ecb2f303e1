"""Ironworks Gym: a membership with an active flag and an expiry date, renewed elsewhere.

``Membership`` has no status: ``is_active`` and ``expires`` (a date) say whether a member may come
in, and the gym's own renewal job charges members whose related ``RenewalSetting.auto_renew`` is
on when ``expires`` comes. The level is a plain value (no plan table). The base template sets the
root font to 10px (the "62.5%" trick).
"""
