"""Who may do what through the API. Every view names its permissions explicitly."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

#: The app's own "view" permission: staff who have it see every case and the analytics.
VIEW_ALL_PERMISSION = "graceful_cancel.view_cancellationcase"


def can_view_all_cases(user: Any) -> bool:
    """Staff with ``graceful_cancel.view_cancellationcase`` (superusers have every permission)."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(VIEW_ALL_PERMISSION)
    )


class IsCustomer(BasePermission):
    """Any signed-in user; what they can reach is limited to their own cases by the querysets."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated)


class CanViewAllCases(BasePermission):
    """Staff with the app's view permission (analytics, everybody's cases)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return can_view_all_cases(request.user)
