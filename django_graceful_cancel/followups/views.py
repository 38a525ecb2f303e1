"""Pages behind the signed links in follow-ups: unsubscribe, survey, reactivate, and the
customer's data export of the good-bye package.

No login is needed: the signed token is the credential, and it only allows its one purpose
(see links.py). A tampered or expired token gets a clear page (status 400 or 410). GET pages
never change anything (mail scanners follow links); the change is a POST from the page, or the
RFC 8058 one-click POST mailbox providers send to the ``List-Unsubscribe`` address.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .. import services
from ..choices import CaseStatus, Channel
from ..conf import app_settings
from ..exceptions import InvalidTransition
from ..models import CancellationCase
from ..rendering import goodbye_settings
from .actions import answer_survey, opt_out
from .links import InvalidLink, max_age_days, read_token

#: How link actions appear on the timeline.
LINK_ACTOR = "customer (link)"


def _base_context() -> dict[str, Any]:
    base = app_settings.BASE_TEMPLATE
    return {"gc_base_template": base} if base else {}


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200):
    # A link page speaks the case's language (the one its message was written in), not the
    # browser's: the customer clicked it from that message.
    case = context.get("case")
    language = getattr(case, "language", "") or translation.get_language()
    with translation.override(language):
        return render(
            request,
            f"django_graceful_cancel/links/{template}",
            {**_base_context(), **context},
            status=status,
        )


def _resolve(request: HttpRequest, purpose: str, token: str) -> tuple[Any, HttpResponse | None]:
    try:
        data = read_token(purpose, token)
    except InvalidLink as error:
        status = 410 if error.reason == "expired" else 400
        return None, _render(request, "invalid.html", {"reason": error.reason}, status=status)
    case = CancellationCase.objects.filter(pk=data["case"]).select_related("customer").first()
    if case is None:
        return None, _render(request, "invalid.html", {"reason": "invalid"}, status=404)
    return (case, data["channel"]), None


@csrf_exempt  # RFC 8058: the mailbox provider POSTs without our cookie; the token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found, error = _resolve(request, "unsubscribe", token)
    if error is not None:
        return error
    case, channel = found
    context: dict[str, Any] = {
        "case": case,
        "channel": channel,
        "channel_label": Channel(channel).label if channel in Channel.values else "",
        "done": False,
    }
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        scope = request.POST.get("scope", "channel" if one_click else "all")
        chosen = channel if scope == "channel" else ""
        if case.customer_id is not None:
            opt_out(
                case.customer_id,
                channel=chosen,
                source="one-click" if one_click else "link",
                case=case,
                actor=LINK_ACTOR,
            )
        context.update(done=True, channel=chosen)
    return _render(request, "unsubscribe.html", context)


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    found, error = _resolve(request, "survey", token)
    if error is not None:
        return error
    case, _channel = found
    context: dict[str, Any] = {
        "case": case,
        "scores": range(11),
        "done": case.survey_answered_at is not None,
        "score": None,
        "comment": "",
    }
    if request.method == "POST" and not context["done"]:
        raw = request.POST.get("score", "")
        comment = request.POST.get("comment", "")
        try:
            answer_survey(case, score=int(raw), comment=comment, actor=LINK_ACTOR)
        except (ValueError, InvalidTransition) as exc:
            code = getattr(exc, "code", "invalid_score")
            if code == "survey_already_answered":
                context["done"] = True
            else:
                context.update(
                    error=gettext_lazy("Please choose a score from 0 to 10."),
                    comment=comment,
                )
                return _render(request, "survey.html", context, status=400)
        else:
            context["done"] = True
    return _render(request, "survey.html", context)


@require_http_methods(["GET", "POST"])
def reactivate(request: HttpRequest, token: str) -> HttpResponse:
    found, error = _resolve(request, "reactivate", token)
    if error is not None:
        return error
    case, _channel = found
    context: dict[str, Any] = {
        "case": case,
        "done": case.status == CaseStatus.REACTIVATED,
        "closed": not case.can_reactivate and case.status != CaseStatus.REACTIVATED,
    }
    if request.method == "POST" and not context["done"] and not context["closed"]:
        try:
            services.reactivate(case, actor=LINK_ACTOR)
        except InvalidTransition:
            context["closed"] = True
        else:
            context["done"] = True
    return _render(request, "reactivate.html", context)


@require_http_methods(["GET", "POST"])
def export(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's own data, as a JSON file (the good-bye package; docs/messages.md).

    GET shows a button (mail scanners follow links, and every export is recorded in the privacy
    log); the POST from it downloads the file. ``GOODBYE["export_extra"]`` adds the site's own
    data about the customer under ``"site"``.
    """
    found, error = _resolve(request, "export", token)
    if error is not None:
        return error
    case, _channel = found
    goodbye = goodbye_settings()
    if not goodbye.get("export") or case.customer is None:
        return _render(request, "invalid.html", {"reason": "invalid"}, status=404)
    if request.method != "POST":
        return _render(request, "export.html", {"case": case, "days": max_age_days("export")})
    data = services.export_customer_data(case.customer, actor=LINK_ACTOR)
    if goodbye.get("export_extra"):
        data["site"] = import_string(goodbye["export_extra"])(case.customer)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{case.reference}-data.json"'
    return response
