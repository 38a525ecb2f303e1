"""The app's models, one module per concern; everything is importable from here."""

from .cases import CancellationCase, CaseEvent, OfferPresentation
from .catalogue import MessageTemplate, Reason, RetentionOffer
from .declarations import CancellationDeclaration
from .desk import (
    ExperimentAssignment,
    ExperimentVariant,
    OfferExperiment,
    PrivacyRequest,
    SaveCheck,
    StaffNote,
)
from .followups import CallTask, DeliveryEvent, FollowUp, OptOut
from .idempotency import IdempotencyKey

__all__ = [
    "CallTask",
    "CancellationCase",
    "CancellationDeclaration",
    "CaseEvent",
    "DeliveryEvent",
    "ExperimentAssignment",
    "ExperimentVariant",
    "FollowUp",
    "IdempotencyKey",
    "MessageTemplate",
    "OfferExperiment",
    "OfferPresentation",
    "OptOut",
    "PrivacyRequest",
    "Reason",
    "RetentionOffer",
    "SaveCheck",
    "StaffNote",
]
