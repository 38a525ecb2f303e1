"""The app's pages: the customer's flow (``flow``) and the eu profile's declaration pages
(``declarations``); ``pages`` holds what they share. URLs name the views through this package."""

from .declarations import (
    declaration_confirm,
    declaration_dispute,
    declaration_received,
    declare,
)
from .flow import accept, confirm, done, offer, reactivate, receipt, saved, start

__all__ = [
    "accept",
    "confirm",
    "declaration_confirm",
    "declaration_dispute",
    "declaration_received",
    "declare",
    "done",
    "offer",
    "reactivate",
    "receipt",
    "saved",
    "start",
]
