"""Input rules shared by every step that takes what a customer typed: phone numbers, email
addresses and free text.

The steps' own rules (``services.flow.check_reason``, the declaration page's) call these and
raise ``InvalidInput`` naming the field, so the page's form and the API's serializer show the
same refusal. Nothing here writes.

* ``check_phone``: a phone number the customer can be reached on, parsed with ``phonenumbers``
  and returned in E.164 (``+34600123456``). ``GRACEFUL_CANCEL["PHONE_REGION"]`` names the region
  whose national format is accepted too (``"ES"``: ``600 123 456``); ``None`` (the default) asks
  for the international format. Letters, control characters and numbers that cannot exist are
  refused.
* ``check_email``: an email address of at most 254 characters (RFC 5321's path limit: a longer
  one could never receive mail), refused rather than cut, since a cut address is someone
  else's.
* ``check_text``: free text with no NUL and no lone surrogate (neither can be stored in
  PostgreSQL or encoded as UTF-8).

``phone_or_empty``, ``is_valid_phone`` and ``storable`` are the lenient forms, for code that must not refuse
(a staff member's call of ``record_reason``, the follow-up channel choice).
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

from ..conf import app_settings
from ..exceptions import InvalidInput

__all__ = [
    "EMAIL_MAX_LENGTH",
    "PHONE_INPUT_MAX_LENGTH",
    "check_email",
    "check_phone",
    "check_text",
    "has_forbidden_characters",
    "is_valid_phone",
    "phone_or_empty",
    "storable",
    "valid_phone_region",
]

#: The longest email address that can receive mail (RFC 5321: a 256-octet path, brackets
#: included). Django's ``EmailField`` accepts 320.
EMAIL_MAX_LENGTH = 254
#: The longest phone number as typed, spaces and punctuation included.
PHONE_INPUT_MAX_LENGTH = 32

PHONE_INVALID_INTERNATIONAL = _(
    "Please enter a valid phone number with its country code, for example +34 600 123 456."
)
PHONE_INVALID = _("Please enter a valid phone number.")
EMAIL_TOO_LONG = _("This email address is too long: at most 254 characters.")
EMAIL_INVALID = _("Please enter a valid email address.")
TEXT_INVALID = _("This text contains characters that cannot be stored.")

#: What a typed phone number may hold besides digits: a leading +, spaces (also no-break ones),
#: and the punctuation people write numbers with. Anything else (letters, control characters)
#: is not a phone number, even when ``phonenumbers`` could find one inside it.
_PHONE_CHARACTERS = re.compile(r"\+?[0-9 \u00a0\u202f().\-/]+")
_SURROGATES = re.compile("[\ud800-\udfff]")


def has_forbidden_characters(value: str) -> bool:
    """Whether ``value`` holds a NUL or a lone surrogate (never storable)."""
    return "\x00" in value or bool(_SURROGATES.search(value))


def storable(value: str) -> str:
    """``value`` without NUL and lone surrogates (for code that keeps text it must not refuse)."""
    return _SURROGATES.sub("", value.replace("\x00", ""))


def valid_phone_region(value: Any) -> bool:
    """None, or a region ``phonenumbers`` knows (an ISO 3166 code such as ``"ES"``)."""
    return value is None or (
        isinstance(value, str) and value.upper() in phonenumbers.SUPPORTED_REGIONS
    )


def _region() -> str | None:
    region = app_settings.PHONE_REGION
    return region.upper() if isinstance(region, str) and region else None


def _parse_phone(value: str) -> str | None:
    """The number in E.164, or None when ``value`` is not a valid phone number."""
    value = value.strip()
    if not value or len(value) > PHONE_INPUT_MAX_LENGTH:
        return None
    if not _PHONE_CHARACTERS.fullmatch(value):
        return None
    try:
        number = phonenumbers.parse(value, _region())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_valid_phone(value: str | None) -> bool:
    """Whether ``value`` is a number the customer can be reached on."""
    return bool(value) and _parse_phone(str(value)) is not None


def phone_or_empty(value: str | None) -> str:
    """The number in E.164, or "" when there is none or it is not valid (never raises)."""
    if not value or not isinstance(value, str):
        return ""
    return _parse_phone(value) or ""


def check_phone(value: str | None, *, field: str = "contact_phone") -> str:
    """The number in E.164 ("" when none was given); raises ``InvalidInput`` on ``field`` when it
    is not a valid phone number."""
    value = (value or "").strip()
    if not value:
        return ""
    parsed = _parse_phone(value)
    if parsed is None:
        message = PHONE_INVALID if _region() else PHONE_INVALID_INTERNATIONAL
        raise InvalidInput.single(field, "invalid_phone", message)
    return parsed


def check_email(value: str | None, *, field: str = "email") -> str:
    """The address, trimmed; raises ``InvalidInput`` on ``field`` when it is longer than 254
    characters (``email_too_long``) or not an address (``invalid_email``)."""
    value = (value or "").strip()
    if len(value) > EMAIL_MAX_LENGTH:
        raise InvalidInput.single(field, "email_too_long", EMAIL_TOO_LONG)
    try:
        EmailValidator()(value)
    except ValidationError as error:
        raise InvalidInput.single(field, "invalid_email", EMAIL_INVALID) from error
    return value


def check_text(value: str | None, *, field: str) -> str:
    """``value`` ("" for None); raises ``InvalidInput`` on ``field`` when it holds a NUL or a
    lone surrogate (``invalid_characters``)."""
    value = value or ""
    if has_forbidden_characters(value):
        raise InvalidInput.single(field, "invalid_characters", TEXT_INVALID)
    return value
