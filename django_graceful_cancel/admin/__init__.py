"""The retention desk in the Django admin: cases, catalogue, experiments, privacy log, dashboard.

Every change staff make here goes through the service layer (``services``), which records the
staff member in the case's timeline; the admin never saves a case itself.
"""

from . import (  # noqa: F401  (registers the model admins)
    cases,
    catalogue,
    declarations,
    desk,
    fulfilment,
    insights,
    reach,
    webhooks,
    withdrawals,
)
