"""Pages behind the pause reminder's signed links: resume now, and extend the pause.

No login is needed: the signed link is the credential, and it allows its one purpose only
(``services.pauses``: a resume link never extends). A GET shows what will happen and one button
(mail scanners follow links); the POST from it calls the service. A tampered or expired link gets
a clear page (400 or 410); a pause already over says so. The reminder's third link, "cancel", is
the normal flow's first page (docs/pause.md).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from ..choices import PauseState
from ..conf import app_settings
from ..exceptions import BackendError, InvalidInput, InvalidTransition
from ..models import Pause
from ..services import pauses

#: How link actions appear on the timeline.
LINK_ACTOR = "customer (link)"


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    # The page speaks the case's language: the customer came from a message written in it.
    case = context.get("case")
    language = getattr(case, "language", "") or translation.get_language()
    base = app_settings.BASE_TEMPLATE
    with translation.override(language):
        return render(
            request,
            template,
            {**({"gc_base_template": base} if base else {}), **context},
            status=status,
        )


def _resolve(request: HttpRequest, purpose: str, token: str) -> tuple[Pause | None, HttpResponse]:
    try:
        return pauses.read_token(purpose, token), HttpResponse()
    except pauses.InvalidPauseLink as error:
        status = 410 if error.reason == "expired" else 400
        return None, _render(
            request,
            "django_graceful_cancel/links/invalid.html",
            {"reason": error.reason},
            status=status,
        )


def _context(pause: Pause) -> dict[str, Any]:
    case = pause.case
    return {
        "pause": pause,
        "case": case,
        "running": pause.state == PauseState.PAUSED,
        "cancel_url": pauses.reminder_links(pause).cancel_url,
    }


@require_http_methods(["GET", "POST"])
def pause_resume(request: HttpRequest, token: str) -> HttpResponse:
    pause, error = _resolve(request, pauses.RESUME, token)
    if pause is None:
        return error
    context = _context(pause)
    context["done"] = pause.state == PauseState.RESUMED_EARLY
    status = 200
    if request.method == "POST" and context["running"]:
        try:
            pause = pauses.resume_pause(pause, actor=LINK_ACTOR)
        except InvalidTransition:
            pause.refresh_from_db()
        except BackendError as exc:
            context["error"] = exc.message
            status = 502 if exc.transient else 409
        else:
            context["done"] = True
        context.update(pause=pause, running=pause.state == PauseState.PAUSED)
    return _render(request, "django_graceful_cancel/pause/resume.html", context, status=status)


@require_http_methods(["GET", "POST"])
def pause_extend(request: HttpRequest, token: str) -> HttpResponse:
    pause, error = _resolve(request, pauses.EXTEND, token)
    if pause is None:
        return error
    context = _context(pause)
    context.update(choices=pauses.extend_choices(pause), done=False, chosen=None)
    status = 200
    if request.method == "POST" and context["running"]:
        raw = request.POST.get("days", "")
        try:
            pause = pauses.extend_pause(pause, days=raw, actor=LINK_ACTOR)
        except InvalidInput as exc:
            context["error"] = (
                exc.errors["days"][0].message if "days" in exc.errors else exc.message
            )
            status = 400
        except InvalidTransition:
            pause.refresh_from_db()
        except BackendError as exc:
            context["error"] = exc.message
            status = 502 if exc.transient else 409
        else:
            context.update(done=True, added=int(raw))
        context.update(
            pause=pause,
            running=pause.state == PauseState.PAUSED,
            choices=pauses.extend_choices(pause),
        )
    if not context["running"] and not context["done"]:
        context["over"] = _("This pause is already over.")
    return _render(request, "django_graceful_cancel/pause/extend.html", context, status=status)
