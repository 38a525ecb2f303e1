"""Helpers of the message-copy tests (issue 15): a site's "what's new" source, and a recorder of
the strings gettext could not translate."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: What the sample "what's new" source says (``GRACEFUL_CANCEL["WHATS_NEW"]``).
WHATS_NEW_ITEMS = [
    {
        "title": "Offline downloads",
        "text": "Save episodes to watch without a connection.",
        "url": "https://example.com/new/offline",
    },
    "A cheaper Basic plan",
]


def sample_whats_new(case: Any) -> list[Any]:
    """A site's "what's new" source: the same two changes for everyone."""
    return list(WHATS_NEW_ITEMS)


def failing_whats_new(case: Any) -> list[Any]:
    raise RuntimeError("the changelog service is down")


def _worded(message: str) -> bool:
    """A message with at least two words to translate (not "%(site)s:" or "OK")."""
    return len(re.findall(r"[^\W\d_]{2,}", re.sub(r"%\(\w+\)[sd]", "", message))) >= 2


@contextmanager
def untranslated_strings(language: str) -> Iterator[list[str]]:
    """Record every worded msgid gettext returns untranslated while ``language`` is active.

    Wraps Django's translation functions (``{% translate %}``, ``{% blocktranslate %}`` and the
    lazy strings of the Python copy all end there); restored on exit.
    """
    from django.utils import translation

    trans = translation._trans
    names = ("gettext", "ngettext", "pgettext", "npgettext")
    real = {name: getattr(trans, name) for name in names}
    missed: list[str] = []

    source = language.split("-")[0] == "en"  # the source language: nothing to translate

    def note(message: str, result: str) -> None:
        if source:
            return
        if translation.get_language() == language and result == message and _worded(message):
            missed.append(message)

    def gettext(message: str) -> str:
        result = real["gettext"](message)
        note(message, result)
        return result

    def ngettext(singular: str, plural: str, number: int) -> str:
        result = real["ngettext"](singular, plural, number)
        note(singular if number == 1 else plural, result)
        return result

    def pgettext(context: str, message: str) -> str:
        result = real["pgettext"](context, message)
        note(message, result)
        return result

    def npgettext(context: str, singular: str, plural: str, number: int) -> str:
        result = real["npgettext"](context, singular, plural, number)
        note(singular if number == 1 else plural, result)
        return result

    wrappers = {
        "gettext": gettext,
        "ngettext": ngettext,
        "pgettext": pgettext,
        "npgettext": npgettext,
    }
    for name in names:
        setattr(trans, name, wrappers[name])
    try:
        yield missed
    finally:
        for name in names:
            setattr(trans, name, real[name])


@contextmanager
def contexts_used() -> Iterator[list[str]]:
    """Record the gettext contexts asked for (to see which register a message used)."""
    from django.utils import translation

    trans = translation._trans
    real_p, real_np = trans.pgettext, trans.npgettext
    used: list[str] = []

    def pgettext(context: str, message: str) -> str:
        used.append(context)
        return real_p(context, message)

    def npgettext(context: str, singular: str, plural: str, number: int) -> str:
        used.append(context)
        return real_np(context, singular, plural, number)

    trans.pgettext, trans.npgettext = pgettext, npgettext
    try:
        yield used
    finally:
        trans.pgettext, trans.npgettext = real_p, real_np
