"""Dates and times as the customer reads them, the same on every surface.

The pages, the API's ``message``, the receipt and the emails show dates through the template
filters ``gc_date`` and ``gc_when`` (``templatetags/graceful_cancel_flow.py``), which call
``format_date`` and ``format_datetime`` here (Python code that writes a date for a customer calls
them directly):

* in the customer's time zone when the case knows it (``CancellationCase.time_zone``: the API's
  ``time_zone``, or the browser's zone sent with the flow's first form);
* otherwise in the current time zone.

Either way the zone is named: "June 3, 2030 (EDT)", "June 3, 2030, 10 p.m. (EDT)". Only a plain
calendar date (a ``date``, not a moment) is shown without one. Formats follow the active
language (``DATE_FORMAT``, ``DATETIME_FORMAT``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime


def customer_zone(case: Any) -> dt.tzinfo | None:
    """The case's time zone (``time_zone``), or None when it has none or an unknown one."""
    name = getattr(case, "time_zone", "") or ""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def known_zone(name: Any) -> str:
    """``name`` when it is an IANA time zone this system knows, else ""."""
    if not isinstance(name, str) or not name or len(name) > 64:
        return ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return name


def as_moment(value: Any) -> Any:
    """``value`` as a datetime when it is one or an ISO 8601 string (as ``presentation.applied``
    stores them); a date (or "2030-06-04") is a date; anything else is returned as it is."""
    if isinstance(value, str):
        if len(value) == 10:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return value
        try:
            return parse_datetime(value) or value
        except ValueError:
            return value
    return value


def zone_name(moment: dt.datetime) -> str:
    """The zone's short name at ``moment`` ("CEST", "UTC"); "UTC-03" where the zone has only
    an offset for a name."""
    name = moment.tzname() or ""
    if name[:1] in ("+", "-"):
        name = f"UTC{name}"
    return name or "UTC"


def in_zone(value: dt.datetime, case: Any = None) -> dt.datetime:
    """``value`` in the customer's zone, or in the current zone when it is unknown."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return timezone.localtime(value, customer_zone(case))


def format_date(value: Any, case: Any = None) -> str:
    """The date of ``value`` as the customer reads it ("June 3, 2030"), in the active language.

    In the case's time zone when it has one, otherwise in the current time zone; the zone is
    named after the date ("June 3, 2030 (EDT)"). A plain date is shown as it is; None or ""
    gives "".
    """
    value = as_moment(value)
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        local = in_zone(value, case)
        # Named even in the customer's own zone: a date is a day somewhere, and the customer
        # may read it on a trip, or staff in another office.
        text = formats.date_format(local, "DATE_FORMAT")
        return f"{text} ({zone_name(local)})"
    if isinstance(value, dt.date):
        return formats.date_format(value, "DATE_FORMAT")
    return str(value)


def format_datetime(value: Any, case: Any = None) -> str:
    """Date and time of ``value`` with its zone's name ("June 3, 2030, 10 p.m. (EDT)"), in the
    case's time zone when it has one, else in the current time zone."""
    value = as_moment(value)
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        local = in_zone(value, case)
        return f"{formats.date_format(local, 'DATETIME_FORMAT')} ({zone_name(local)})"
    if isinstance(value, dt.date):
        return formats.date_format(value, "DATE_FORMAT")
    return str(value)


def local_date(value: dt.datetime, case: Any = None) -> dt.date:
    """The calendar date of ``value`` for the customer (their zone, else the current one)."""
    return in_zone(value, case).date()


def is_after_today(value: dt.datetime | None, case: Any = None) -> bool:
    """Whether ``value`` falls on a later day than today, for the customer."""
    if value is None:
        return False
    return local_date(value, case) > local_date(timezone.now(), case)
