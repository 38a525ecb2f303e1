"""The words of a staff alert: a title, a few lines, a link to the case in the admin.

Written at send time from the facts the rule stored (``rules.Alert.facts``), in the site's
language (``LANGUAGE_CODE``: staff read them, not the customer). No customer name or address is
in an alert: the link leads to the case, behind the admin's login.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import Reason
from ..sites import absolute, site_name
from . import rules

TITLES = {
    rules.HIGH_VALUE_CANCELLATION: gettext_lazy("High-value cancellation"),
    rules.CALL_REQUESTED: gettext_lazy("A customer is waiting for a call"),
    rules.DECLARATION_DISPUTED: gettext_lazy("A cancellation declaration was disputed"),
    rules.PROVIDER_SYNC_ATTENTION: gettext_lazy("The billing provider needs attention"),
}


@dataclass(frozen=True)
class AlertMessage:
    title: str
    lines: list[str]
    #: The case's page in the admin (absolute), or "" when there is none.
    url: str


def case_admin_url(case_pk: Any) -> str:
    """The absolute address of the case in the admin, or "" (no case, no admin mounted)."""
    if not case_pk:
        return ""
    try:
        return absolute(reverse("admin:graceful_cancel_cancellationcase_change", args=[case_pk]))
    except NoReverseMatch:
        return ""


def _reason_label(slug: str | None) -> str:
    if not slug:
        return _("none given")
    reason = Reason.objects.filter(slug=slug).first()
    return reason.localized_label if reason is not None else slug


def compose(rule: str, facts: dict[str, Any]) -> AlertMessage:
    """The alert ``rule`` made, from its ``facts``, in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        lines: list[str] = []
        if facts.get("reference"):
            lines.append(
                _("Case %(reference)s: %(plan)s, %(value)s %(currency)s a month.")
                % {
                    "reference": facts["reference"],
                    "plan": facts.get("plan") or _("no plan"),
                    "value": facts.get("monthly_value") or "0.00",
                    "currency": facts.get("currency") or "",
                }
            )
            lines.append(_("Reason: %(reason)s.") % {"reason": _reason_label(facts.get("reason"))})
        if rule == rules.HIGH_VALUE_CANCELLATION:
            lines.append(
                _("That is at or above the alert threshold of %(threshold)s a month.")
                % {"threshold": facts.get("min_monthly_value", "")}
            )
        elif rule == rules.CALL_REQUESTED and facts.get("how") == "consultation":
            lines.append(_("The customer accepted a consultation call: please call them."))
        elif rule == rules.CALL_REQUESTED:
            lines.append(
                _("A phone follow-up (%(stage)s) is waiting in the call list.")
                % {"stage": facts.get("stage", "")}
            )
        elif rule == rules.DECLARATION_DISPUTED:
            lines.append(
                _("Declaration %(declaration)s: the account holder says it was not them.")
                % {"declaration": facts.get("declaration", "")}
            )
        elif rule == rules.PROVIDER_SYNC_ATTENTION:
            lines.append(
                _("The billing provider failed %(attempts)s times: %(error)s")
                % {"attempts": facts.get("attempts", ""), "error": facts.get("error", "")}
            )
        return AlertMessage(
            title=str(TITLES.get(rule, rule)),
            lines=lines,
            url=case_admin_url(facts.get("case")),
        )


def _slack_escape(text: str) -> str:
    """Slack's three control characters (https://api.slack.com/reference/surfaces/formatting)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: AlertMessage) -> dict[str, Any]:
    """A Slack incoming-webhook message: a plain ``text`` (notifications) and Block Kit blocks
    with a button to the case."""
    body = "\n".join(_slack_escape(line) for line in message.lines)
    text = f"{_slack_escape(message.title)}: {body}" if body else _slack_escape(message.title)
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*{_slack_escape(message.title)}*\n{body}"},
        }
    ]
    if message.url:
        with translation.override(settings.LANGUAGE_CODE):
            label = _("Open the case")
        text += f" <{message.url}|{_slack_escape(label)}>"
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": label},
                        "url": message.url,
                    }
                ],
            }
        )
    return {"text": text, "blocks": blocks}


def email_parts(message: AlertMessage) -> tuple[str, str]:
    """Subject and text of the alert by email, from the overridable templates
    ``django_graceful_cancel/alerts/alert_subject.txt`` and ``alert_message.txt``."""
    context = {"title": message.title, "lines": message.lines, "url": message.url}
    context["site_name"] = site_name()
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("django_graceful_cancel/alerts/alert_subject.txt", context)
        text = render_to_string("django_graceful_cancel/alerts/alert_message.txt", context)
    return " ".join(subject.split()), text.strip() + "\n"
