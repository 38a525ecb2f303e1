"""Who may come back through a come-back link (docs/returns.md). Reads only.

Kept apart from ``services.returns`` (the use cases) so the follow-up links can ask before they
put a come-back link in a message, without importing the use cases that stop the sequence.
"""

from __future__ import annotations

from ..backends import get_backend
from ..choices import CaseStatus, ReturnStatus
from ..models import CancellationCase, CaseReturn


def has_returned(case: CancellationCase) -> bool:
    """Whether the case's customer already came back (the link is used up)."""
    return CaseReturn.objects.filter(case_id=case.pk, status=ReturnStatus.RETURNED).exists()


def can_come_back(case: CancellationCase) -> bool:
    """A come-back link is offered only for a cancelled case of a known customer whose reason
    allows winning them back (not a closing business), not yet returned, and only when the
    subscription backend can subscribe them again (``Capabilities.resubscribe``)."""
    if case.status != CaseStatus.CANCELLED or case.customer_id is None:
        return False
    reason = case.reason
    if reason is not None and not reason.offer_allowed:
        return False
    if not get_backend().capabilities().resubscribe:
        return False
    return not has_returned(case)
