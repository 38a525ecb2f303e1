"""Path converters for the app's URLs: a path that cannot name anything answers 404 before a view
(or the database) sees it.

A case reference is ``GC-XXXX-XXXX-XXXX`` (``models.cases.new_reference``); a token is Django
``signing`` output or ``secrets.token_urlsafe`` (letters, digits, ``-``, ``_``, ``:`` and ``.``).
Anything else in those places, a NUL byte above all (PostgreSQL refuses it in a query, which
would be a 500), matches no URL pattern: the pages answer the site's 404, and the API its JSON
404 (``api/urls.py`` ends with a catch-all under ``cases/``).

Registered once, on import, as ``gc_reference`` and ``gc_token``::

    path("<gc_reference:reference>/", views.offer, name="offer")
"""

from __future__ import annotations

from django.urls import register_converter
from django.urls.converters import StringConverter

__all__ = ["REFERENCE_PATTERN", "TOKEN_PATTERN", "ReferenceConverter", "TokenConverter"]

#: A case reference as a URL can hold one: letters, digits and dashes, at most 32 characters
#: (the reference column's length). Mistyped references that fit it reach the view's 404.
REFERENCE_PATTERN = r"[0-9A-Za-z][0-9A-Za-z-]{0,31}"
#: A link or declaration token: URL-safe base64 with ``signing``'s separators, bounded.
TOKEN_PATTERN = r"[0-9A-Za-z_\-:.]{1,1024}"


class ReferenceConverter(StringConverter):
    regex = REFERENCE_PATTERN


class TokenConverter(StringConverter):
    regex = TOKEN_PATTERN


register_converter(ReferenceConverter, "gc_reference")
register_converter(TokenConverter, "gc_token")
