"""What every page of the app shares: the base context, problem pages, the account link."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from ..compliance import rules_for
from ..conf import app_settings

T = "django_graceful_cancel/"


def account_url() -> str:
    value = app_settings.ACCOUNT_URL
    try:
        return reverse(value)
    except NoReverseMatch:
        return value


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    base = {
        "gc_base_template": app_settings.BASE_TEMPLATE,
        "gc_account_url": account_url(),
        "gc_rules": rules_for(),
    }
    return render(request, T + template, {**base, **(context or {})}, status=status)


def problem_page(
    request: HttpRequest, title: str, message: str, *, status: int, case: Any = None
) -> HttpResponse:
    return render_page(
        request, "problem.html", {"title": title, "message": message, "case": case}, status
    )
