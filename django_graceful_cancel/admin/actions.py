"""What every admin action of the desk does: call one service per selected row, count what worked
and tell staff what did not (a domain error never becomes a 500)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from ..exceptions import GracefulCancelError


def run_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    items: Iterable[Any],
    call: Callable[[Any], Any],
    *,
    done: Callable[[int], str],
    label: Callable[[Any], str] | None = None,
) -> int:
    """Call ``call(item)`` for each item; report ``done(count)`` when any worked, and the first ten
    refusals as warnings (``"<label>: <reason>"`` with a ``label``). Returns how many worked."""
    ok, failed = 0, []
    for item in items:
        try:
            call(item)
        except GracefulCancelError as error:
            failed.append(f"{label(item)}: {error.message}" if label else str(error.message))
        else:
            ok += 1
    if ok:
        model_admin.message_user(request, done(ok), messages.SUCCESS)
    for line in failed[:10]:
        model_admin.message_user(request, line, messages.WARNING)
    return ok
