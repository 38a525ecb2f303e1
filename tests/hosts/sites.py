"""The three host sites of tests/hosts/ and what their tests share.

``SITES`` names them; ``serving(name)`` applies a site's URLconf and GRACEFUL_CANCEL block with
``override_settings``; ``prepare_catalogue`` does what the site's staff do after loading the
catalogue; ``Customer`` walks the pages as a signed-in customer (links and forms of each page);
``send_followups`` runs the command cron runs. Not a test module and not a conftest: the test
modules import from here, never from each other.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from html import unescape
from pathlib import Path
from typing import Any

from django.test import override_settings
from django.urls import resolve, reverse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@dataclass(frozen=True)
class Site:
    #: The app's label and the directory under tests/hosts/.
    name: str
    #: What the site calls its account page (a URL name), where the cancel link is.
    account: str
    #: The id of the cancel link on that page.
    cancel_link_id: str = "cancel-link"

    @property
    def module(self) -> str:
        return f"tests.hosts.{self.name}"

    @property
    def urlconf(self) -> str:
        return f"{self.module}.urls"

    @property
    def graceful_cancel(self) -> dict[str, Any]:
        """The ``GRACEFUL_CANCEL`` block of the site's settings (``<site>/settings.py``)."""
        return dict(importlib.import_module(f"{self.module}.settings").GRACEFUL_CANCEL)

    @property
    def data(self) -> Any:
        """The site's ``data`` module: its rows for a test (``make_customer``, ``renews``,
        ``DOWNGRADE_OFFER``, ``prepare_catalogue``)."""
        return importlib.import_module(f"{self.module}.data")

    def make_customer(self, username: str, **kwargs: Any) -> Any:
        """A user with a live subscription in the site's own tables."""
        return self.data.make_customer(username, **kwargs)


SITES: dict[str, Site] = {
    # A Stripe-shaped one-to-one subscription: status choices and cancel_at_period_end.
    "magazine": Site("magazine", account="magazine:account"),
    # An active flag and an expiry date; auto-renewal on a related model.
    "gym": Site("gym", account="gym:membership"),
    # Plans in one table, their prices in another.
    "saas": Site("saas", account="saas:billing"),
}


def prepare_catalogue(site: Site) -> None:
    """What the site's staff do once in the admin after loading the catalogue (its data
    module's ``prepare_catalogue``): rewrite the shipped downgrade offer ("Switch to the Basic
    plan", ``{"plan": "basic"}``) for one of the site's own cheaper plans, and switch off the
    offers nobody at the site would apply."""
    site.data.prepare_catalogue()


@contextmanager
def serving(name: str) -> Iterator[Site]:
    """Serve site ``name``: its URLconf and its ``GRACEFUL_CANCEL`` block, nothing else of the
    suite's (``override_settings``, undone on exit)."""
    site = SITES[name]
    with override_settings(ROOT_URLCONF=site.urlconf, GRACEFUL_CANCEL=site.graceful_cancel):
        yield site


# --- a customer walking the pages ---------------------------------------------------------------

FORM = re.compile(r"<form\b[^>]*\baction=\"([^\"]+)\"[^>]*>(.*?)</form>", re.S)


def form_action(html: str, button_id: str) -> str:
    """The action of the form whose submit button has id ``button_id``."""
    for action, body in FORM.findall(html):
        if f'id="{button_id}"' in body:
            return unescape(action)
    raise AssertionError(f"no form with a #{button_id} button on the page:\n{html}")


def link_href(html: str, link_id: str) -> str:
    match = re.search(rf'<a\b[^>]*\bid="{link_id}"[^>]*>', html)
    assert match, f"no #{link_id} link on the page:\n{html}"
    href = re.search(r'\bhref="([^"]+)"', match.group(0))
    assert href, match.group(0)
    return unescape(href.group(1))


class Customer:
    """A signed-in customer who walks the site's pages with Django's test client.

    Every POST runs the callbacks its transaction registered on commit (the confirmation sent
    inline, signals after commit), as a real request's commit would; each step follows the links
    and forms of the page before it, so a missing link or button fails the walk.
    """

    def __init__(self, client: Any, user: Any, site: Site, on_commit: Callable[..., Any]) -> None:
        self.client, self.user, self.site, self.on_commit = client, user, site, on_commit
        client.force_login(user)
        self.page, self.step = "", ""

    def get(self, url: str, status: int = 200) -> str:
        response = self.client.get(url, follow=True)
        assert response.status_code == status, (url, response.status_code)
        self.page = response.content.decode()
        #: The URL name of the page the customer is on ("done", "saved", "offer"...).
        self.step = resolve(response.request["PATH_INFO"]).url_name
        return self.page

    def post(self, url: str, data: dict[str, Any] | None = None, status: int = 200) -> str:
        with self.on_commit(execute=True):
            response = self.client.post(url, data or {})
        assert response.status_code in (302, 303), (url, response.status_code)
        return self.get(response["Location"], status=status)

    def account(self) -> str:
        return self.get(reverse(self.site.account))

    def open_flow(self) -> str:
        """From the account page, follow the cancel link to step 1."""
        return self.get(link_href(self.account(), self.site.cancel_link_id))

    def give_reason(self, reason: str, *, consent: bool = True, detail: str = "") -> str:
        """Step 1 with a reason and the follow-up consent: lands on step 2 (the offer page)."""
        page = self.open_flow()
        data = {"action": "continue", "reason": reason, "detail": detail}
        if consent:
            data |= {"contact_consent": "on", "preferred_channel": "email"}
        return self.post(form_action(page, "gc-continue"), data)

    def accept_offer(self) -> str:
        return self.post(form_action(self.page, "gc-accept"))

    def decline_offer(self) -> str:
        return self.post(form_action(self.page, "gc-decline"))

    def confirm(self) -> str:
        """Cancel on step 2 when it shows no offer."""
        return self.post(form_action(self.page, "gc-confirm"))

    def reactivate(self) -> str:
        """The one-click reactivation on the confirmation page."""
        return self.post(form_action(self.page, "gc-reactivate"))


def case_of(user: Any) -> Any:
    """The customer's latest case."""
    from django_graceful_cancel.models import CancellationCase

    return CancellationCase.objects.filter(customer=user).latest("pk")


# --- follow-ups ---------------------------------------------------------------------------------


def send_followups() -> list[Any]:
    """Run ``manage.py graceful_cancel_send_followups`` as the site's cron does; the mails it
    sent."""
    import io

    from django.core import mail
    from django.core.management import call_command

    before = len(mail.outbox)
    call_command("graceful_cancel_send_followups", stdout=io.StringIO())
    return list(mail.outbox[before:])


def sent_stages(user: Any) -> list[str]:
    """The stages of the follow-ups sent to ``user``, in the order they were sent."""
    from django_graceful_cancel.models import FollowUp

    return list(
        FollowUp.objects.filter(customer=user, status="sent")
        .order_by("sent_at", "pk")
        .values_list("stage", flat=True)
    )


def shows_date(text: str, day: date) -> bool:
    """Whether ``text`` names ``day`` ("December 19, 2026" or Django's "Dec. 19, 2026")."""
    from django.conf import settings
    from django.utils.dateformat import format as date_format

    flat = " ".join(text.split())
    spelled = f"{day:%B} {day.day}, {day.year}"
    return spelled in flat or date_format(day, settings.DATE_FORMAT) in flat
