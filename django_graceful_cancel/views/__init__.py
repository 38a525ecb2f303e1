"""The app's pages: the customer's flow (``flow``) and the eu profile's declaration pages
(``declarations``); ``pages`` holds what they share. URLs name the views through this package."""

from .declarations import (
    declaration_confirm,
    declaration_dispute,
    declaration_received,
    declare,
)
from .flow import (
    accept,
    confirm,
    done,
    offer,
    offer_question,
    reactivate,
    receipt,
    saved,
    start,
)
from .returns import comeback
from .withdrawals import withdraw, withdrawal_confirm, withdrawal_received

__all__ = [
    "accept",
    "comeback",
    "confirm",
    "declaration_confirm",
    "declaration_dispute",
    "declaration_received",
    "declare",
    "done",
    "offer",
    "offer_question",
    "reactivate",
    "receipt",
    "saved",
    "start",
    "withdraw",
    "withdrawal_confirm",
    "withdrawal_received",
]
