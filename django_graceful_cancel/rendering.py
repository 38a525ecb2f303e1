"""Reason-specific messages: page copy, emails, SMS, call scripts (docs/messages.md).

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

The shipped files are frames that every reason shares; what is written for one reason comes from
the catalogue (``catalogue/defaults.py``: ``REASON_COPY``) as ``copy``, the frames' own sentences
as ``say``, each in the register ``FORMAL_REGISTER`` chooses for the language.

**Claims.** A message may only claim what a setting or a record makes true. ``message_context``
computes the variables that make claims true (``feedback_routed``, ``their_words``,
``access_until``, ``can_reactivate``, ``whats_new``, ``export_url``, ``gift``, ``keeps_content``,
``saving_allowed``, ``last_message``), and ``CLAIMS`` says which words or variables make each
claim, so ``lint_template`` can flag a template (a file or a staff row) that makes a claim
outside the ``{% if %}`` of its condition.
"""

from __future__ import annotations

import functools
import logging
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template import Context, Template, TemplateDoesNotExist
from django.template.base import Node, NodeList, TextNode, Variable, VariableNode
from django.template.defaulttags import IfNode
from django.template.loader import get_template, render_to_string, select_template
from django.templatetags.i18n import BlockTranslateNode, TranslateNode
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.text import Truncator
from django.utils.translation import pgettext_lazy

from .catalogue.defaults import COMMON_COPY, REASON_COPY, STAGE_SLOTS, Say
from .catalogue.routes import is_routed
from .choices import CaseStatus, EffectiveMode, FollowUpStatus
from .conf import DEFAULTS, app_settings
from .dates import format_date
from .models import CancellationCase, FollowUp, MessageTemplate, Reason, catalogue_cache
from .sites import absolute, site_name

logger = logging.getLogger("django_graceful_cancel")

#: Template parts per channel: (subject part, body part, html part); None where unused.
PARTS: dict[str, tuple[str | None, str, str | None]] = {
    "email": ("subject.txt", "message.txt", "message.html"),
    "page": (None, "page.html", None),
    "sms": (None, "sms.txt", None),
    "whatsapp": (None, "sms.txt", None),
    "phone": (None, "call.txt", None),
}

#: The longest quote of the customer's own words a message repeats (an ellipsis ends a cut).
WORDS_MAX_LENGTH = 140

#: How a language quotes (« », „ “, “ ”...).
QUOTE = pgettext_lazy("quotation marks around the customer's words", "“%(words)s”")


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    #: Where the copy came from: "db:<pk>" or the file template's name (shown in the admin).
    source: str
    #: Whether the copy was written for the case's reason: a reason's own row or file, or a
    #: shipped frame filled with the catalogue's copy for the reason (``REASON_COPY``).
    reason_specific: bool = False


# --- register and sentences -----------------------------------------------------------------


def formal_register(language: str | None = None) -> bool:
    """Whether messages in ``language`` (default: the active one) use the formal register."""
    language = (language or translation.get_language() or "").lower()
    chosen = app_settings.FORMAL_REGISTER or {}
    for code in _languages(language):
        if code in chosen:
            return bool(chosen[code])
    return False


class _Values(dict):
    """Values for the sentences' placeholders; one a translation names but we lack is empty."""

    def __missing__(self, key: str) -> str:
        return ""


class Sentences(Mapping[str, str]):
    """Sentences by name in one register, with their placeholders filled; what templates read as
    ``say.<name>`` and ``copy.<name>``. A name that is not there reads as empty."""

    def __init__(self, table: Mapping[str, Say], *, formal: bool, values: dict[str, Any]) -> None:
        self._table = table
        self._formal = formal
        self._values = _Values(values)

    def __getitem__(self, name: str) -> str:
        say = self._table[name]
        text = say.formal if self._formal else say.informal
        try:
            return str(text % self._values)
        except (ValueError, TypeError):
            # A translation with a stray "%": show it as written rather than break the message.
            logger.warning("Message sentence %r has a bad placeholder in its translation", name)
            try:
                return str(text)
            except (ValueError, TypeError):
                return ""

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


def reason_sentences(reason: Reason | None, stage: str) -> dict[str, Say]:
    """The catalogue's copy for a reason at a stage, by the names templates use."""
    written = REASON_COPY.get(reason.slug, {}) if reason is not None else {}
    return {
        name: written[slot] for name, slot in STAGE_SLOTS.get(stage, {}).items() if slot in written
    }


def has_reason_copy(reason: Reason | None, stage: str) -> bool:
    """Whether the catalogue has copy written for this reason at this stage (its main slot)."""
    slots = STAGE_SLOTS.get(stage)
    if reason is None or not slots:
        return False
    return next(iter(slots.values())) in REASON_COPY.get(reason.slug, {})


def quote_words(detail: str) -> str:
    """The customer's own words as a message repeats them: on one line, at most
    ``WORDS_MAX_LENGTH`` characters (cut with an ellipsis); "" when they wrote nothing."""
    words = " ".join((detail or "").split())
    return Truncator(words).chars(WORDS_MAX_LENGTH) if words else ""


# --- what makes claims true -------------------------------------------------------------------


def goodbye_settings() -> dict[str, Any]:
    """``GOODBYE`` with the keys a site left out at their defaults."""
    return {**DEFAULTS["GOODBYE"], **(app_settings.GOODBYE or {})}


def validate_goodbye(value: Any) -> list[str]:
    """Problems with a ``GOODBYE`` value, as readable strings (empty when fine)."""
    if not isinstance(value, dict):
        return ["not a dict"]
    problems = [f"unknown key {key!r}" for key in value if key not in DEFAULTS["GOODBYE"]]
    if not isinstance(value.get("export", True), bool):
        problems.append("'export' must be True or False")
    days = value.get("export_link_days", 7)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        problems.append("'export_link_days' must be a whole number of days, 1 or more")
    if not (value.get("export_extra") is None or isinstance(value.get("export_extra"), str)):
        problems.append("'export_extra' must be None or a dotted path")
    if not isinstance(value.get("keeps_content", False), bool):
        problems.append("'keeps_content' must be True or False")
    gift = value.get("gift")
    if gift is not None and not (
        isinstance(gift, dict)
        and set(gift) <= {"title", "url", "code"}
        and isinstance(gift.get("title", ""), (str, dict))
    ):
        problems.append("'gift' must be None or a dict of 'title', 'url' and 'code'")
    return problems


def gift_for(language: str | None = None) -> dict[str, str] | None:
    """The site's gift in ``language``: {"title", "url", "code"}, or None without one."""
    gift = goodbye_settings().get("gift")
    if not isinstance(gift, dict):
        return None
    title = gift.get("title") or ""
    if isinstance(title, dict):
        language = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
        candidates = [*_languages(language), settings.LANGUAGE_CODE.lower(), "en"]
        title = next((title[c] for c in candidates if title.get(c)), "")
    found = {
        "title": str(title),
        "url": str(gift.get("url") or ""),
        "code": str(gift.get("code") or ""),
    }
    return found if any(found.values()) else None


def whats_new_for(case: CancellationCase, context: dict[str, Any]) -> list[dict[str, str]]:
    """What changed since the customer left, from ``WHATS_NEW``: a list of {"title", "text",
    "url"}; empty without a source, or when it fails (logged: a message never breaks on it)."""
    source = app_settings.WHATS_NEW
    if not source:
        return []
    try:
        if isinstance(source, str) and source.endswith((".txt", ".html")):
            text = render_to_string(source, context).strip()
            return [{"title": "", "text": text, "url": ""}] if text else []
        function = import_string(source) if isinstance(source, str) else source
        items = list(function(case) or [])
    except Exception:
        logger.exception(
            "WHATS_NEW (%r) failed for case %s; the win-back names no change", source, case.pk
        )
        return []
    found = []
    for item in items:
        if isinstance(item, dict):
            entry = {key: str(item.get(key) or "") for key in ("title", "text", "url")}
        else:
            entry = {"title": str(item), "text": "", "url": ""}
        if entry["title"] or entry["text"]:
            found.append(entry)
    return found


def is_last_message(case: CancellationCase, followup: FollowUp | None) -> bool:
    """Whether ``followup`` is the last message the case's sequence will send."""
    if followup is None or case.pk is None:
        return False
    gone = [FollowUpStatus.CANCELLED, FollowUpStatus.SKIPPED, FollowUpStatus.FAILED]
    return not (
        FollowUp.objects.filter(case_id=case.pk, due_at__gt=followup.due_at)
        .exclude(pk=followup.pk)
        .exclude(status__in=gone)
        .exists()
    )


def account_link() -> str:
    """The customer's account page (``ACCOUNT_URL``) as an absolute address."""
    value = str(app_settings.ACCOUNT_URL or "")
    try:
        path = reverse(value)
    except NoReverseMatch:
        path = value
    return absolute(path)


def access_until(case: CancellationCase, now: datetime | None = None) -> datetime | None:
    """Until when a cancelled case keeps its access: its effective date while that is still
    ahead (never after an immediate cancellation), else None."""
    now = now or timezone.now()
    if (
        case.status == CaseStatus.CANCELLED
        and case.effective_mode != EffectiveMode.IMMEDIATELY
        and case.effective_at is not None
        and case.effective_at > now
    ):
        return case.effective_at
    return None


def claim_context(case: CancellationCase, stage: str, extra: dict[str, Any]) -> dict[str, Any]:
    """The variables that make claims true, for ``case`` at ``stage`` (docs/messages.md)."""
    reason = case.reason
    goodbye = goodbye_settings()
    export_url = str(extra.get("export_url") or "")
    context: dict[str, Any] = {
        "their_words": quote_words(case.reason_detail),
        "feedback_routed": is_routed(reason),
        "access_until": access_until(case),
        "can_reactivate": case.can_reactivate,
        "saving_allowed": reason is None or reason.offer_allowed,
        "keeps_content": bool(goodbye.get("keeps_content")),
        "gift": gift_for(),
        "export_url": export_url,
        "export_includes_content": bool(goodbye.get("export_extra")),
        "export_until": (
            timezone.now() + timedelta(days=int(goodbye.get("export_link_days") or 7))
            if export_url
            else None
        ),
        "account_url": account_link(),
        "whats_new": [],
        "last_message": False,
    }
    if stage == "winback":
        context["whats_new"] = whats_new_for(case, {"case": case, "reason": reason, **extra})
        context["last_message"] = is_last_message(case, extra.get("followup"))
    return context


# --- the context ------------------------------------------------------------------------------


def _date(value: Any, case: CancellationCase) -> str:
    # Through dates.format_date, like the pages' gc_date filter: in the customer's zone when the
    # case knows it, otherwise the zone is named ("June 3, 2030 (UTC)").
    if not isinstance(value, datetime):
        return ""
    return format_date(value, case)


def message_context(case: CancellationCase, *, stage: str = "", **extra: Any) -> dict[str, Any]:
    """What every message template can use (docs/messages.md lists it)."""
    customer = case.customer
    name = ""
    if customer is not None:
        name = (customer.get_short_name() if hasattr(customer, "get_short_name") else "") or (
            customer.get_username()
        )
    tenure_months = (case.tenure_days or 0) // 30
    formal = formal_register()
    context: dict[str, Any] = {
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
        "stage": stage,
        "formal": formal,
        "register": "formal" if formal else "informal",
        **claim_context(case, stage, extra),
        **extra,
    }
    gift = context.get("gift") or {}
    words = context.get("their_words") or ""
    values = {
        "site": context["site_name"],
        "name": name,
        "plan": case.plan or "",
        "reference": case.reference,
        "years": context["tenure_years"],
        "months": context["tenure_months"],
        "effective_date": _date(context.get("effective_at"), case),
        "access_until": _date(context.get("access_until"), case),
        "export_until": _date(context.get("export_until"), case),
        "quote": str(QUOTE % {"words": words}) if words else "",
        "gift": gift.get("title", ""),
        "code": gift.get("code", ""),
    }
    context["say"] = Sentences(COMMON_COPY, formal=formal, values=values)
    context["copy"] = Sentences(reason_sentences(case.reason, stage), formal=formal, values=values)
    return context


def _languages(language: str) -> list[str]:
    language = language.lower()
    return list(dict.fromkeys([language, language.split("-")[0]]))


def _time_zone(case: CancellationCase) -> zoneinfo.ZoneInfo | None:
    if not case.time_zone:
        return None
    try:
        return zoneinfo.ZoneInfo(case.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


# --- finding and rendering the copy -----------------------------------------------------------


@functools.lru_cache(maxsize=512)
def compiled(source: str) -> Template:
    """``source`` compiled once per process: a sweep renders the same copy for every message.

    Keyed by the source itself, so an edited template compiles anew and the old one ages out.
    """
    return Template(source)


def _db_template(
    case: CancellationCase, stage: str, channel: str, language: str, *, generic: bool
) -> MessageTemplate | None:
    # Read from the cached catalogue (models/catalogue_cache.py): no query per message.
    return catalogue_cache.message_template(
        None if generic else case.reason_id, stage, channel, _languages(language)
    )


def render_message_template(
    template: MessageTemplate, context: dict[str, Any], *, html_body: bool = False
) -> RenderedMessage:
    """One message template row rendered with ``context``; errors propagate (the admin's preview
    shows them, ``render_message`` falls back to the next copy in line).

    ``html_body``: the text body is HTML shown on a page, so what customers typed is escaped.
    """
    ctx = Context(context, autoescape=False)
    subject = compiled(template.subject).render(ctx) if template.subject else ""
    # A page body is HTML shown on the site: escape what customers typed (their name...).
    text = compiled(template.body).render(Context(context, autoescape=html_body))
    html = (
        compiled(template.html_body).render(Context(context, autoescape=True))
        if template.html_body
        else ""
    )
    return RenderedMessage(
        subject=" ".join(subject.split()),
        text=text.strip(),
        html=html,
        source=f"db:{template.pk}",
        reason_specific=template.reason_id is not None,
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
    base_names: list[str],
    channel: str,
    context: dict[str, Any],
    *,
    default_base: str = "",
    reason_specific: bool = False,
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
        reason_specific=reason_specific,
    )


def render_message(
    case: CancellationCase,
    stage: str,
    *,
    channel: str = "email",
    language: str | None = None,
    extra_context: dict[str, Any] | None = None,
) -> RenderedMessage:
    """Render the most specific copy for ``case`` at ``stage`` on ``channel`` (see module doc).

    Dates are shown in the customer's time zone (``case.time_zone``) when it is known.
    """
    if channel not in PARTS:
        raise ValueError(f"Unknown channel {channel!r}")
    language = language or case.language or settings.LANGUAGE_CODE
    root = f"django_graceful_cancel/messages/{stage}"
    zone = _time_zone(case)
    with translation.override(language), timezone.override(zone or timezone.get_current_timezone()):
        context = message_context(case, stage=stage, **(extra_context or {}))
        html_body = channel == "page"
        written = has_reason_copy(case.reason, stage)
        if case.reason is not None:
            specific = _db_template(case, stage, channel, language, generic=False)
            found = _try_db(specific, context, html_body=html_body)
            if found is not None:
                return found
            found = _render_files(
                [f"{root}/{case.reason.slug}"],
                channel,
                context,
                default_base=f"{root}/default",
                reason_specific=True,
            )
            if found is not None:
                return found
        generic = _db_template(case, stage, channel, language, generic=True)
        found = _try_db(generic, context, html_body=html_body)
        if found is not None:
            return found
        found = _render_files([f"{root}/default"], channel, context, reason_specific=written)
        if found is None:
            raise TemplateDoesNotExist(f"{root}/default_{PARTS[channel][1]}")
        return found


#: The app's own templates: a reason file found here only extends the shared frame.
SHIPPED_TEMPLATES = Path(__file__).resolve().parent / "templates"


def copy_origin(reason: Reason, stage: str, *, channel: str = "email", language: str) -> str:
    """Where a reason's copy for a stage comes from: "database" (a staff row), "file" (a template
    of the site's own), "catalogue" (``REASON_COPY``, in the shared frame), "generic", or "none"
    (the stage is never sent for the reason: a win-back where saving is wrong)."""
    if stage == "winback" and not reason.offer_allowed:
        return "none"
    if MessageTemplate.objects.filter(
        reason=reason,
        stage=stage,
        channel=channel,
        language__in=_languages(language),
        is_active=True,
    ).exists():
        return "database"
    try:
        found: Any = get_template(
            f"django_graceful_cancel/messages/{stage}/{reason.slug}_{PARTS[channel][1]}"
        )
    except TemplateDoesNotExist:
        found = None
    written = has_reason_copy(reason, stage)
    if found is not None:
        origin = Path(str(found.template.origin.name)).resolve()
        if not (written and origin.is_relative_to(SHIPPED_TEMPLATES)):
            return "file"
    return "catalogue" if written else "generic"


# --- claims -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """Something a message says the business does or the customer has, and what makes it true."""

    name: str
    #: Context variables that make it true: one of them must be tested by an enclosing ``{% if %}``.
    conditions: tuple[str, ...]
    #: Template variables whose use makes the claim (``copy.routed``, ``say.access_until``...).
    variables: tuple[str, ...] = ()
    #: Regular expressions (case-insensitive) that find the claim in words, in every shipped language.
    patterns: tuple[str, ...] = ()


#: Every claim a message can make. Add a language's wording to ``patterns`` when you translate.
CLAIMS: tuple[Claim, ...] = (
    Claim(
        "feedback_routed",
        ("feedback_routed",),
        ("copy.routed",),
        (
            r"goes to the (?:people|team)",
            r"passed (?:it|them|this|your \w+) on",
            r"llega (?:a las personas|al equipo)",
            r"(?:se lo )?trasladamos",
            r"geht an (?:das Team|die Menschen)",
            r"(?:geben|gaben) (?:es|sie|das|ihn) weiter|weitergegeben",
            r"transmise? (?:à l|aux personnes)",
        ),
    ),
    Claim(
        "their_words",
        ("their_words",),
        ("their_words", "say.their_words"),
        (
            r"in your own words",
            r"con (?:tus|sus) palabras",
            r"(?:in|mit) (?:deinen|Ihren) (?:eigenen )?Worten",
            r"avec (?:tes|vos) (?:propres )?mots",
        ),
    ),
    Claim(
        "access_until",
        ("access_until", "ends_later"),
        ("access_until", "say.access_until", "say.stays_active", "say.page_ends_later"),
        (
            r"(?:stays?|remains?) active until",
            r"keep (?:full )?access until",
            r"sigue activ[oa] hasta",
            r"conserv\w* el acceso",
            r"bleibt\b.{0,60}?\bbis\b.{0,80}?\baktiv",
            r"(?:behalten|behältst) (?:Sie )?(?:den )?(?:vollen )?Zugang",
            r"rest\w* acti(?:f|ve)s? jusqu",
            r"conserv\w* (?:un |l\W{1,6})?accès",
        ),
    ),
    Claim(
        "can_reactivate",
        ("can_reactivate", "case.can_reactivate"),
        (
            "reactivate_url",
            "reactivate_link",
            "say.reactivate",
            "say.changed_mind",
            "say.keep_one_click",
            "say.sms_keep",
        ),
        (
            r"reactivate (?:your|my) subscription",
            r"keep (?:your|my) subscription",
            r"reactiv\w+ (?:tu|su|mi) suscripci",
            r"mant[eé]n\w* (?:tu|su|mi) suscripci",
            r"reaktivier\w*",
            r"(?:dein|Ihr|mein)\w* Abo\b[^.:]{0,40}?behalten",
            r"behalte\w* (?:Sie )?(?:dein|Ihr|mein)\w* Abo",
            r"r[ée]activ\w* (?:votre|ton|mon) abonnement",
            r"(?:conserv|gard)\w* (?:votre|ton|mon) abonnement",
        ),
    ),
    Claim(
        "whats_new",
        ("whats_new",),
        ("whats_new", "say.whats_new_intro", "say.subject_whats_new", "say.sms_whats_new"),
        (
            r"what(?:'s| is| has) (?:new|changed)",
            r"has changed since",
            r"we (?:have )?(?:built|changed|improved|kept working)",
            r"novedades",
            r"ha cambiado",
            r"hemos (?:creado|cambiado|mejorado|seguido trabajando)",
            r"Neuigkeiten",
            r"hat sich (?:\w+ )?geändert|geändert hat",
            r"wir haben (?:\w+ ){0,3}(?:entwickelt|geändert|verbessert|weitergearbeitet)",
            r"ce qui a changé",
            r"nous avons (?:\w+ ){0,2}(?:créé|changé|amélioré|continué)",
        ),
    ),
    Claim(
        "export_url",
        ("export_url",),
        ("export_url", "say.export_data", "say.export_records"),
        (
            r"download (?:a copy|my data|your data)",
            r"descarg\w* (?:una copia|mis datos)",
            r"Kopie (?:deiner|Ihrer|meiner) Daten\b.{0,40}?herunter|(?:Daten|Kopie) herunterladen",
            r"Kopie dessen herunter",
            r"t[ée]l[ée]charg\w* (?:une copie|mes données|vos données|tes données)",
        ),
    ),
    Claim(
        "gift",
        ("gift", "gift.title", "gift.url", "gift.code"),
        ("gift", "gift.title", "gift.url", "gift.code", "say.gift_code"),
        (
            r"parting gift",
            r"this code is yours",
            r"regalo de despedida",
            r"este c[oó]digo es (?:tuyo|suyo)",
            r"Abschiedsgeschenk",
            r"gehört dieser Code (?:dir|Ihnen)",
            r"cadeau de départ",
            r"ce code est à (?:vous|toi)",
        ),
    ),
    Claim(
        "keeps_content",
        ("keeps_content",),
        ("say.keeps_content",),
        (
            r"content (?:is|are) kept",
            r"contenido se conserva",
            r"Inhalte bleiben\b.{0,60}?erhalten",
            r"contenus? (?:est|sont) conserv",
        ),
    ),
    Claim(
        "saving_allowed",
        ("saving_allowed",),
        (),
        (
            r"glad to have you back",
            r"encantar[ií]a (?:que volvieras|tenerte de vuelta)",
            r"freuen uns,? (?:dich|Sie) wieder",
            r"(?:ravis|heureux) de (?:vous|te) (?:revoir|retrouver)",
        ),
    ),
    # A come-back link (docs/returns.md) only where the case can come back that way, and a
    # win-back offer only where the case's win-back arm carries one the backend applies.
    Claim(
        "comeback",
        ("comeback_url",),
        ("comeback_url",),
        (
            r"come back in one click",
            r"vuelve con un (?:solo )?clic",
            r"vuelva con un (?:solo )?clic",
            r"mit einem Klick zur[uü]ck",
            r"revenir en un (?:seul )?clic",
        ),
    ),
    Claim(
        "comeback_offer",
        ("comeback_offer",),
        ("comeback_offer",),
        (
            r"come back with this offer",
            r"vuelv\w+ con esta oferta",
            r"mit diesem Angebot zur[uü]ck",
            r"revenez avec cette offre",
            r"reviens avec cette offre",
        ),
    ),
    Claim(
        "last_message",
        ("last_message",),
        ("say.last_message",),
        (r"last message", r"[uú]ltimo mensaje", r"letzte Nachricht", r"dernier message"),
    ),
)

_PATTERNS = {
    claim.name: re.compile("|".join(claim.patterns), re.I) for claim in CLAIMS if claim.patterns
}


def find_claims(text: str) -> set[str]:
    """The names of the claims whose words appear in ``text`` (rendered copy)."""
    return {name for name, pattern in _PATTERNS.items() if pattern.search(text or "")}


@dataclass(frozen=True)
class Finding:
    """A claim a template makes outside the ``{% if %}`` of its condition."""

    claim: str
    #: The words or the variable that make it.
    excerpt: str
    #: The variables that would make it true.
    conditions: tuple[str, ...]


def _names_in(condition: Any) -> set[str]:
    """Variable names a ``{% if %}`` condition tests (not those it negates)."""
    if condition is None:
        return set()
    if getattr(condition, "id", None) == "not":
        return set()
    names: set[str] = set()
    value = getattr(condition, "value", None)  # a literal: a FilterExpression
    var = getattr(value, "var", None)
    if isinstance(var, Variable) and var.lookups:
        names.add(str(var.var))
    for side in ("first", "second"):
        names |= _names_in(getattr(condition, side, None))
    return names


def _literal(expression: Any) -> str:
    var = getattr(expression, "var", None)
    if isinstance(var, Variable) and var.literal is not None:
        return str(var.literal)
    if isinstance(var, str):
        return var
    return ""


def _node_words(node: Node) -> tuple[list[str], list[str]]:
    """(words, variable names) a node shows, words in the source language and the active one."""
    if isinstance(node, TextNode):
        return [node.s], []
    if isinstance(node, VariableNode):
        var = node.filter_expression.var
        if isinstance(var, Variable):
            return ([str(var.literal)], []) if var.lookups is None else ([], [str(var.var)])
        return [str(var)], []
    if isinstance(node, TranslateNode):
        msgid = _literal(node.filter_expression)
        context = _literal(node.message_context) if node.message_context else ""
        translated = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
        return [msgid, translated], []
    if isinstance(node, BlockTranslateNode):
        msgid, tokens = node.render_token_list(node.singular)
        context = _literal(node.message_context) if node.message_context else ""
        translated = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
        used = [token for token in tokens if token not in node.extra_context]
        used += [
            str(expression.var.var)
            for expression in node.extra_context.values()
            if isinstance(getattr(expression, "var", None), Variable) and expression.var.lookups
        ]
        return [msgid, translated], used
    return [], []


def _uses(variable: str, names: tuple[str, ...]) -> bool:
    return any(variable == name or variable.startswith(name + ".") for name in names)


def _walk(nodes: NodeList | list[Node], conditions: frozenset[str], found: list[Finding]) -> None:
    for node in nodes:
        if isinstance(node, IfNode):
            for condition, body in node.conditions_nodelists:
                _walk(body, conditions | _names_in(condition), found)
            continue
        words, variables = _node_words(node)
        for claim in CLAIMS:
            if set(claim.conditions) & conditions:
                continue
            pattern = _PATTERNS.get(claim.name)
            for text in words:
                match = pattern.search(text) if pattern else None
                if match:
                    found.append(Finding(claim.name, match.group(0), claim.conditions))
                    break
            else:
                for variable in variables:
                    if _uses(variable, claim.variables):
                        found.append(Finding(claim.name, variable, claim.conditions))
                        break
        for attribute in getattr(node, "child_nodelists", ()):
            child = getattr(node, attribute, None)
            if child:
                _walk(child, conditions, found)


def lint_template(source: str, *, language: str | None = None) -> list[Finding]:
    """The claims a template's source makes without the ``{% if %}`` of their condition.

    Words are looked for in the source and in its translation into ``language``; a template that
    does not compile has nothing to lint (``MessageTemplate.clean()`` refuses it).
    """
    try:
        template = Template(source)
    except Exception:  # noqa: BLE001  (syntax errors are reported by MessageTemplate.clean())
        return []
    found: list[Finding] = []
    with translation.override(language or settings.LANGUAGE_CODE):
        _walk(template.nodelist, frozenset(), found)
    unique: dict[tuple[str, str], Finding] = {}
    for finding in found:
        unique.setdefault((finding.claim, finding.excerpt.lower()), finding)
    return list(unique.values())


def lint_file(name: str, *, language: str | None = None) -> list[Finding]:
    """``lint_template`` for a file template, by name (the one Django's loaders find first)."""
    backend_template: Any = get_template(name)
    return lint_template(backend_template.template.source, language=language)
