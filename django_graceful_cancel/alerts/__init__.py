"""Staff alerts: a message to the team when a case needs a person (docs/alerts.md).

* ``rules``: which timeline events (and declaration disputes) make an alert, from
  ``ALERT_RULES``; the rules only decide, they write nothing.
* ``channels``: where alerts go: Slack through an incoming webhook, email to the case's owner,
  or a channel of the site's own (``ALERT_CHANNELS``).
* ``messages``: the words of an alert, in the site's language, with a link to the case in the
  admin.

Alerts travel through the outbound outbox (``webhooks/outbox.py``): one ``OutboundDelivery`` row
per alert and channel, written in the transaction of the change and sent after the commit, with
the same retries and the same delivery log as the webhooks.
"""
