"""Finding the customer a privacy command is about, by id, username or email."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db.models import Q


def find_customer(value: str) -> Any:
    User = get_user_model()
    query = Q(**{User.USERNAME_FIELD: value})
    if value.isdigit():
        query |= Q(pk=int(value))
    if "@" in value:
        query |= Q(email__iexact=value)
    found = list(User.objects.filter(query)[:2])
    if not found:
        raise CommandError(f"No customer {value!r} (give an id, a username or an email).")
    if len(found) > 1:
        raise CommandError(f"{value!r} matches more than one customer; give the id.")
    return found[0]
