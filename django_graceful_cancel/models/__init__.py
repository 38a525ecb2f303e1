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
from .feedback import FeedbackDelivery
from .followups import CallTask, DeliveryEvent, FollowUp, OptOut
from .fulfilment import FulfilmentTask
from .idempotency import IdempotencyKey
from .webhooks import OutboundDelivery, WebhookEndpoint

__all__ = [
    "CallTask",
    "CancellationCase",
    "CancellationDeclaration",
    "CaseEvent",
    "DeliveryEvent",
    "ExperimentAssignment",
    "ExperimentVariant",
    "FeedbackDelivery",
    "FollowUp",
    "FulfilmentTask",
    "IdempotencyKey",
    "MessageTemplate",
    "OfferExperiment",
    "OfferPresentation",
    "OptOut",
    "OutboundDelivery",
    "PrivacyRequest",
    "Reason",
    "RetentionOffer",
    "SaveCheck",
    "StaffNote",
    "WebhookEndpoint",
]
