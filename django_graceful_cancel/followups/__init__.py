"""Follow-ups: the messages a cancelled case gets, and the customer's answers to them.

One module per concern (docs/followups.md is the guide):

* ``outbox``: the engine. Schedule a case's rows, claim due rows, deliver them, sweep, back-off.
* ``respect``: when a row may go at all: opt-outs, quiet hours, one message a day.
* ``dispatch``: how rows due at once leave after the commit (``FOLLOWUP_DISPATCH``).
* ``actions``: what customers, ESPs and staff do: tracking events, opt-out, survey, call done.
* ``sequences``: which messages a case gets, when, and on which channel.
* ``channels/``: the channel backends (email, console, phone, Twilio).
* ``links``: the signed links in messages; ``views`` and ``urls``: the pages behind them.
* ``receivers``: anymail's tracking signal, connected in ``AppConfig.ready()``.
* ``tasks``: the Celery tasks and the Celery dispatcher; the only module here that imports Celery.
* ``deprecation``: the old dotted paths, kept for one release.

The models stay in ``django_graceful_cancel.models`` (``FollowUp``, ``OptOut``, ``CallTask``,
``DeliveryEvent``).
"""
