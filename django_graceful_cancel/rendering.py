"""Reason-specific messages: page copy, emails, SMS, call scripts.

``render_message(case, stage, channel=...)`` finds the most specific template, in this order
(the first that exists wins):

1. a ``MessageTemplate`` row for the case's reason, this stage, channel and language (staff edit
   these in the admin; "es-mx" falls back to "es");
2. the file template for the reason: ``django_graceful_cancel/messages/<stage>/<reason-slug>_<part>``;
3. a generic ``MessageTemplate`` row (no reason) for this stage, channel and language;
4. the generic file template: ``django_graceful_cancel/messages/<stage>/default_<part>``.

Reason-specific copy beats generic copy; at the same specificity, what staff wrote in the
database beats the files. A database row that fails to compile or render (a typo saved before
``MessageTemplate.clean()`` existed, a tag the row cannot use) is logged and skipped: the next
candidate in the order is used, so one bad row never breaks the page or the email. File
templates are overridden the Django way, from the host's
``TEMPLATES["DIRS"]``. Parts by channel: email ``subject.txt``, ``message.txt`` and optional
``message.html``; page ``page.html``; sms and whatsapp ``sms.txt``; phone ``call.txt``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template import Context, Template, TemplateDoesNotExist
from django.template.loader import render_to_string, select_template
from django.utils import timezone, translation

from .models import CancellationCase, MessageTemplate
from .sites import site_name

logger = logging.getLogger("django_graceful_cancel")

#: Template parts per channel: (subject part, body part, html part); None where unused.
PARTS: dict[str, tuple[str | None, str, str | None]] = {
    "email": ("subject.txt", "message.txt", "message.html"),
    "page": (None, "page.html", None),
    "sms": (None, "sms.txt", None),
    "whatsapp": (None, "sms.txt", None),
    "phone": (None, "call.txt", None),
}


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    #: Where the copy came from: "db:<pk>" or the file template's name (shown in the admin).
    source: str


def message_context(case: CancellationCase, **extra: Any) -> dict[str, Any]:
    """What every message template can use."""
    customer = case.customer
    name = ""
    if customer is not None:
        name = (customer.get_short_name() if hasattr(customer, "get_short_name") else "") or (
            customer.get_username()
        )
    tenure_months = (case.tenure_days or 0) // 30
    return {
        "case": case,
        "customer": customer,
        "name": name,
        "plan": case.plan,
        "tenure_days": case.tenure_days,
        "tenure_months": tenure_months,
        "tenure_years": tenure_months // 12,
        "effective_at": case.effective_at,
        "reference": case.reference,
        "reason": case.reason,
        "site_name": site_name(),
        "now": timezone.now(),
        **extra,
    }


def _languages(language: str) -> list[str]:
    language = language.lower()
    return list(dict.fromkeys([language, language.split("-")[0]]))


def _db_template(
    case: CancellationCase, stage: str, channel: str, language: str, *, generic: bool
) -> MessageTemplate | None:
    candidates = MessageTemplate.objects.filter(
        stage=stage,
        channel=channel,
        language__in=_languages(language),
        is_active=True,
        reason=None if generic else case.reason,
    )
    by_language = {t.language: t for t in candidates}
    for code in _languages(language):
        if code in by_language:
            return by_language[code]
    return None


def render_message_template(
    template: MessageTemplate, context: dict[str, Any], *, html_body: bool = False
) -> RenderedMessage:
    """One message template row rendered with ``context``; errors propagate (the admin's preview
    shows them, ``render_message`` falls back to the next copy in line).

    ``html_body``: the text body is HTML shown on a page, so what customers typed is escaped.
    """
    ctx = Context(context, autoescape=False)
    subject = Template(template.subject).render(ctx) if template.subject else ""
    # A page body is HTML shown on the site: escape what customers typed (their name...).
    text = Template(template.body).render(Context(context, autoescape=html_body))
    html = (
        Template(template.html_body).render(Context(context, autoescape=True))
        if template.html_body
        else ""
    )
    return RenderedMessage(
        subject=" ".join(subject.split()), text=text.strip(), html=html, source=f"db:{template.pk}"
    )


def _try_db(
    template: MessageTemplate | None, context: dict[str, Any], *, html_body: bool
) -> RenderedMessage | None:
    """The row rendered, or None when there is no row or it fails (logged; the caller falls back)."""
    if template is None:
        return None
    try:
        return render_message_template(template, context, html_body=html_body)
    except Exception:
        # Staff edit these rows without a deploy: whatever one does wrong (syntax, an unknown
        # tag or filter, a failing {% url %}), the customer gets the next copy in line.
        logger.exception(
            "Message template %s (pk %s) failed to render; using the next template in line",
            template,
            template.pk,
        )
        return None


def _render_files(
    base_names: list[str], channel: str, context: dict[str, Any], *, default_base: str = ""
) -> RenderedMessage | None:
    subject_part, body_part, html_part = PARTS[channel]
    try:
        body_template = select_template([f"{base}_{body_part}" for base in base_names])
    except TemplateDoesNotExist:
        return None
    base = body_template.template.name[: -len(f"_{body_part}")]
    text = body_template.render(context)
    subject = ""
    if subject_part:
        # A reason may bring its own body and keep the generic subject.
        names = [f"{base}_{subject_part}"]
        if default_base:
            names.append(f"{default_base}_{subject_part}")
        subject = select_template(names).render(context)
    html = ""
    if html_part:
        try:
            html = render_to_string(f"{base}_{html_part}", context)
        except TemplateDoesNotExist:
            html = ""
    return RenderedMessage(
        subject=" ".join(subject.split()),
        text=text.strip(),
        html=html,
        source=body_template.template.name,
    )


def render_message(
    case: CancellationCase,
    stage: str,
    *,
    channel: str = "email",
    language: str | None = None,
    extra_context: dict[str, Any] | None = None,
) -> RenderedMessage:
    """Render the most specific copy for ``case`` at ``stage`` on ``channel`` (see module doc)."""
    if channel not in PARTS:
        raise ValueError(f"Unknown channel {channel!r}")
    language = language or case.language or settings.LANGUAGE_CODE
    root = f"django_graceful_cancel/messages/{stage}"
    with translation.override(language):
        context = message_context(case, **(extra_context or {}))
        html_body = channel == "page"
        if case.reason is not None:
            specific = _db_template(case, stage, channel, language, generic=False)
            found = _try_db(specific, context, html_body=html_body)
            if found is not None:
                return found
            found = _render_files(
                [f"{root}/{case.reason.slug}"], channel, context, default_base=f"{root}/default"
            )
            if found is not None:
                return found
        generic = _db_template(case, stage, channel, language, generic=True)
        found = _try_db(generic, context, html_body=html_body)
        if found is not None:
            return found
        found = _render_files([f"{root}/default"], channel, context)
        if found is None:
            raise TemplateDoesNotExist(f"{root}/default_{PARTS[channel][1]}")
        return found
