"""Personal data taken out of a quote before staff read it among many.

Removes email addresses, links, phone numbers, long digit runs (card, account and order numbers)
and the customer's own names where the case knows them. A quote is for seeing a theme, not a
person: the full text stays on the case page, for staff who may read that case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A link, without the punctuation that ends the sentence around it.
URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)]"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|de|fr|es)\b(?:/[^\s<>\"]*[^\s<>\".,;:!?)])?"
)
# A phone number: an optional +, then at least 7 digits with spaces, dots, dashes or brackets.
PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().-]{5,}\d(?!\w)")
DIGITS = re.compile(r"\d{5,}")

EMAIL_MARK = "[email]"
URL_MARK = "[link]"
PHONE_MARK = "[phone]"
NUMBER_MARK = "[number]"
NAME_MARK = "[name]"


def redact(text: str, names: Iterable[str] = ()) -> str:
    """``text`` with emails, links, phone numbers, long digit runs and ``names`` replaced."""
    text = EMAIL.sub(EMAIL_MARK, text)
    text = URL.sub(URL_MARK, text)
    text = PHONE.sub(_phone, text)
    text = DIGITS.sub(NUMBER_MARK, text)
    # Longest first, so "Anna Maria" goes before "Anna"; two letters or fewer would blank words.
    for name in sorted(
        {n.strip() for n in names if n and len(n.strip()) > 2}, key=len, reverse=True
    ):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", NAME_MARK, text, flags=re.IGNORECASE)
    return text


def _phone(match: re.Match[str]) -> str:
    found = match.group()
    # A bare run of digits is an account or order number (below); a phone number has a + or
    # separators, and at least 7 digits (so prices and years stay).
    if found.isdigit() or sum(ch.isdigit() for ch in found) < 7:
        return found
    return PHONE_MARK
