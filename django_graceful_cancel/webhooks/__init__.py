"""Outbound webhooks: signed events for the tools a team already uses (docs/webhooks.md).

One module per concern:

* ``events``: the catalogue of event types, which timeline events they come from, and the payloads
  (with no more personal data than ``WEBHOOK_PERSONAL_DATA`` allows).
* ``signing``: Standard Webhooks signatures (the ``standardwebhooks`` package).
* ``transport``: the one HTTP POST, with a timeout and no redirects.
* ``outbox``: the engine, shared with staff alerts (``alerts/``): rows written in the transaction
  of the change (``enqueue_for_event``, called by ``services.core.record``), claimed in order per
  endpoint and case, sent, retried with back-off, swept, sent again.
* ``dispatch``: how rows leave after the commit (``WEBHOOK_DISPATCH``).
* ``tasks``: the Celery tasks and the Celery dispatcher; the only module here that imports Celery.
* ``receivers``: the erasure signal, connected in
  ``AppConfig.ready()``; ``checks``: the system checks of the webhook and alert settings.

The models are ``WebhookEndpoint`` and ``OutboundDelivery`` in ``django_graceful_cancel.models``.
"""
