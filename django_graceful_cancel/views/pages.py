"""What every page of the app shares: the base context, problem pages, the account link."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from ..compliance import ComplianceRules, rules_for
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
    context = context or {}
    base = {
        "gc_base_template": app_settings.BASE_TEMPLATE,
        "gc_account_url": account_url(),
        "gc_rules": page_rules(context),
    }
    return render(request, T + template, {**base, **context}, status=status)


def page_rules(context: dict[str, Any]) -> ComplianceRules:
    """The rules a page follows: the view's ``rules``, else its case's profile (the one the case
    started under), else the site's fallback profile. Never a backend call."""
    rules = context.get("rules")
    if isinstance(rules, ComplianceRules):
        return rules
    case = context.get("case")
    profile = getattr(case, "compliance_profile", None)
    return rules_for(profile if isinstance(profile, str) else None)


def problem_page(
    request: HttpRequest, title: str, message: str, *, status: int, case: Any = None
) -> HttpResponse:
    return render_page(
        request, "problem.html", {"title": title, "message": message, "case": case}, status
    )
