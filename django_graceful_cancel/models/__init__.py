"""The app's models, one module per concern; everything is importable from here."""

from .cases import CancellationCase, CaseEvent, OfferPresentation
from .catalogue import MessageTemplate, Reason, RetentionOffer
from .catalogue_cache import connect_signals as _connect_catalogue_signals
from .declarations import CancellationDeclaration
from .desk import (
    ExperimentAssignment,
    ExperimentVariant,
    OfferExperiment,
    PrivacyRequest,
    SaveCheck,
    StaffNote,
)
from .evidence import EvidenceRecord
from .feedback import FeedbackDelivery
from .followups import CallTask, DeliveryEvent, FollowUp, OptOut
from .fulfilment import FulfilmentTask
from .idempotency import IdempotencyKey
from .insights import Suggestion, TrainedClassifier
from .pauses import Pause
from .questions import QuestionAnswer, ReasonQuestion
from .questions import connect_signals as _connect_question_signals
from .reach import ReachOutTask
from .returns import CaseReturn, WinbackArm
from .rollups import DailyRollup, RollupWatermark
from .webhooks import OutboundDelivery, WebhookEndpoint
from .withdrawals import Withdrawal

# The cached catalogue forgets what changes (models/catalogue_cache.py).
_connect_catalogue_signals()
_connect_question_signals()

__all__ = [
    "CallTask",
    "CancellationCase",
    "CancellationDeclaration",
    "CaseEvent",
    "CaseReturn",
    "DailyRollup",
    "DeliveryEvent",
    "EvidenceRecord",
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
    "Pause",
    "PrivacyRequest",
    "QuestionAnswer",
    "ReachOutTask",
    "Reason",
    "ReasonQuestion",
    "RetentionOffer",
    "RollupWatermark",
    "SaveCheck",
    "StaffNote",
    "Suggestion",
    "TrainedClassifier",
    "WebhookEndpoint",
    "WinbackArm",
    "Withdrawal",
]
