"""Signals sent by the service layer after each state change.

Every signal is sent inside the transaction that made the change, with ``sender`` set to the
``CancellationCase`` class (or the model named below). A receiver that talks to the outside world
should defer that work with ``transaction.on_commit``. Receivers must accept ``**kwargs``: new
arguments may be added.

Common arguments: ``case`` (the ``CancellationCase``) and ``actor`` (the user who acted, a string
such as ``"system"``, or ``None``).
"""

from django.dispatch import Signal

#: A case was created. Args: ``case``, ``actor``.
case_started = Signal()
#: The customer stated (or changed) a reason. Args: ``case``, ``actor``, ``reason`` (or None).
reason_recorded = Signal()
#: The offer policy chose an offer and it was shown. Args: ``case``, ``actor``, ``presentation``.
offer_presented = Signal()
#: The customer accepted the offer; the backend applied it. Args: ``case``, ``actor``,
#: ``presentation``, ``applied`` (dict the backend returned).
offer_accepted = Signal()
#: The customer declined the offer. Args: ``case``, ``actor``, ``presentation``.
offer_declined = Signal()
#: The cancellation was confirmed. Args: ``case``, ``actor``.
case_cancelled = Signal()
#: A cancelled case was reactivated. Args: ``case``, ``actor``.
case_reactivated = Signal()
#: An open case was left without a decision. Args: ``case``, ``actor``.
case_abandoned = Signal()
#: The subscription backend applied the cancellation. Args: ``case``, ``actor``.
provider_synced = Signal()
#: The subscription backend failed; the case stays cancelled, sync pending. Args: ``case``,
#: ``actor``, ``error`` (the BackendError).
provider_sync_failed = Signal()
#: Staff took or assigned a case. Args: ``case``, ``actor``, ``owner``.
owner_assigned = Signal()
#: Staff recorded the root cause. Args: ``case``, ``actor``, ``root_cause``.
root_cause_set = Signal()
