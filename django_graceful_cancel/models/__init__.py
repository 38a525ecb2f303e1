"""The app's models, one module per concern; everything is importable from here."""

from .cases import CancellationCase, CaseEvent, OfferPresentation
from .catalogue import MessageTemplate, Reason, RetentionOffer

__all__ = [
    "CancellationCase",
    "CaseEvent",
    "MessageTemplate",
    "OfferPresentation",
    "Reason",
    "RetentionOffer",
]
