"""What used to fail silently, or in the customer's face, is caught at start-up (issue 13, item 3).

* ``FOLLOWUP_DISPATCH = "auto"`` (the default) sends the confirmation from the web process when
  the site has no Celery app with a broker; the checks warn when the configured dispatcher
  cannot deliver (W043) and remind that "sweep" needs a schedule (I044).
* ``BASE_TEMPLATE`` that does not exist (E040) or renders no ``content`` block (E041).
* No ``SITE_URL`` while ``DEBUG`` is off (W042).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import celery._state
import pytest
from celery import Celery
from django.core import mail
from django.core.checks.registry import registry
from django.test import Client
from django.urls import reverse

from django_graceful_cancel.checks import check_base_template, check_delivery
from django_graceful_cancel.choices import CaseStatus
from django_graceful_cancel.conf import DEFAULTS
from django_graceful_cancel.followups import tasks
from django_graceful_cancel.followups.dispatch import (
    AutoDispatcher,
    celery_status,
    get_dispatcher,
)
from django_graceful_cancel.models import CancellationCase
from tests.support import gc_settings


def check_ids(**overrides: Any) -> list[str]:
    """The ids these checks report under the test settings with ``overrides``."""
    from django.test import override_settings

    with override_settings(GRACEFUL_CANCEL=gc_settings(**overrides)):
        return sorted(m.id for m in [*check_delivery(), *check_base_template()] if m.id)


def test_the_checks_run_with_djangos():
    registered = registry.get_checks()
    assert check_delivery in registered and check_base_template in registered


def without(key: str) -> dict[str, Any]:
    """The test settings' GRACEFUL_CANCEL without ``key`` (so its default applies)."""
    settings = gc_settings()
    settings.pop(key, None)
    return settings


@pytest.fixture
def no_celery_app() -> Iterator[None]:
    """A process without a Celery app of the site's own: Celery's ``current_app`` is then its
    built-in fallback app, as in a site that never set Celery up."""
    saved = (celery._state._tls.current_app, celery._state.default_app)
    celery._state._tls.current_app = None
    celery._state.default_app = None
    try:
        yield
    finally:
        celery._state._tls.current_app, celery._state.default_app = saved


@pytest.fixture
def site_celery_app() -> Iterator[Any]:
    """A Celery app of the site's own with no broker configured (set ``conf.broker_url``)."""
    saved = (celery._state._tls.current_app, celery._state.default_app)
    app = Celery("site", set_as_current=True, fixups=[])
    try:
        yield app
    finally:
        celery._state._tls.current_app, celery._state.default_app = saved


# --- dispatch ------------------------------------------------------------------------------------


def test_auto_is_the_default():
    assert DEFAULTS["FOLLOWUP_DISPATCH"] == "auto"


def test_celery_status_tells_the_fallback_app_from_the_sites_own(no_celery_app, monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    status = celery_status()
    assert status.installed and not status.has_app and not status.can_deliver


def test_celery_status_needs_a_broker(site_celery_app, monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    assert celery_status().has_app and not celery_status().can_deliver
    site_celery_app.conf.broker_url = "redis://broker.internal:6379/0"
    assert celery_status().can_deliver


def test_celery_status_counts_eager_mode_as_delivering(site_celery_app, monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    site_celery_app.conf.task_always_eager = True
    assert celery_status().can_deliver


def test_without_celery_installed_auto_sends_inline(settings):
    settings.GRACEFUL_CANCEL = without("FOLLOWUP_DISPATCH")
    # Where Celery is looked at cannot be imported, as in a site without Celery installed.
    with mock.patch(
        "django_graceful_cancel.followups.dispatch.CELERY_STATUS", "no_celery_here.celery_status"
    ):
        assert not celery_status().installed
        chosen = get_dispatcher()
        assert isinstance(chosen, AutoDispatcher)
        assert type(chosen.chosen()).__name__ == "InlineDispatcher"


def test_auto_uses_celery_when_the_site_has_an_app_with_a_broker(settings):
    settings.GRACEFUL_CANCEL = without("FOLLOWUP_DISPATCH")
    # The suite's own Celery app (tests/celery_app.py) publishes to memory.
    assert type(AutoDispatcher().chosen()) is tasks.CeleryDispatcher


@pytest.mark.django_db
def test_default_settings_without_celery_send_the_confirmation_without_a_worker(
    settings, no_celery_app, customer, catalogue, django_capture_on_commit_callbacks, monkeypatch
):
    """Issue 13: with the old default ("celery") and no Celery app, the confirmation stayed
    queued for ever while the page said it was on its way."""
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    settings.GRACEFUL_CANCEL = without("FOLLOWUP_DISPATCH")
    page = Client()
    page.force_login(customer)
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit
        response = page.post(reverse("graceful_cancel:start"), {"action": "cancel"})
    assert response.status_code == 302
    case = CancellationCase.objects.get(customer=customer)
    assert case.status == CaseStatus.CANCELLED
    [message] = mail.outbox
    assert message.to == [customer.email] and case.reference in message.subject


def test_celery_without_an_app_or_broker_is_a_warning(no_celery_app, monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    assert "graceful_cancel.W043" in check_ids(FOLLOWUP_DISPATCH="celery")
    assert "graceful_cancel.W043" not in check_ids()  # auto: inline here, which delivers
    assert "graceful_cancel.W043" not in check_ids(FOLLOWUP_DISPATCH="inline")


def test_celery_with_the_sites_app_and_a_broker_passes():
    assert "graceful_cancel.W043" not in check_ids(FOLLOWUP_DISPATCH="celery")


def test_celery_app_without_a_broker_is_a_warning(site_celery_app, monkeypatch):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    from django.test import override_settings

    with override_settings(GRACEFUL_CANCEL=gc_settings(FOLLOWUP_DISPATCH="celery")):
        [warning] = [m for m in check_delivery() if m.id == "graceful_cancel.W043"]
    assert "no broker_url" in warning.msg


def test_sweep_is_an_info_to_schedule_the_sweep():
    assert "graceful_cancel.I044" in check_ids(FOLLOWUP_DISPATCH="sweep")
    assert "graceful_cancel.I044" not in check_ids()


def test_a_dispatcher_that_cannot_be_imported_is_an_error():
    assert "graceful_cancel.E004" in check_ids(FOLLOWUP_DISPATCH="myapp.nowhere.Dispatcher")
    assert "graceful_cancel.E004" not in check_ids(
        FOLLOWUP_DISPATCH="django_graceful_cancel.followups.dispatch.SweepDispatcher"
    )


# --- SITE_URL ------------------------------------------------------------------------------------


def test_no_site_url_without_debug_is_a_warning(settings):
    settings.DEBUG = False
    assert "graceful_cancel.W042" in check_ids(SITE_URL=None)
    assert "graceful_cancel.W042" not in check_ids(SITE_URL="https://www.example.com")
    settings.DEBUG = True
    assert "graceful_cancel.W042" not in check_ids(SITE_URL=None)


# --- BASE_TEMPLATE -------------------------------------------------------------------------------


@pytest.fixture
def templates_dir(settings: Any, tmp_path: Path) -> Path:
    """A template directory searched first, for the host base templates of these tests."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [str(tmp_path), *templates[0].get("DIRS", [])]
    settings.TEMPLATES = templates
    return tmp_path


def write(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return name


def test_the_default_and_the_suites_base_templates_pass():
    assert not {"graceful_cancel.E040", "graceful_cancel.E041"} & set(check_ids())
    assert not {"graceful_cancel.E040", "graceful_cancel.E041"} & set(
        check_ids(BASE_TEMPLATE="django_graceful_cancel/standalone.html")
    )


def test_a_base_template_that_does_not_exist_is_an_error():
    assert "graceful_cancel.E040" in check_ids(BASE_TEMPLATE="site/nope.html")


def test_a_base_template_that_does_not_load_is_an_error(templates_dir):
    name = write(templates_dir, "site/broken.html", "{% block content %}{% endblok %}")
    assert "graceful_cancel.E040" in check_ids(BASE_TEMPLATE=name)


def test_a_base_template_without_a_content_block_is_an_error(templates_dir):
    name = write(
        templates_dir,
        "site/base.html",
        "<html><head>{% block extra_head %}{% endblock %}</head>"
        "<body>{% block main %}{% endblock %}</body></html>",
    )
    assert "graceful_cancel.E041" in check_ids(BASE_TEMPLATE=name)


def test_title_and_extra_head_are_optional(templates_dir):
    name = write(templates_dir, "site/bare.html", "<main>{% block content %}{% endblock %}</main>")
    assert not {"graceful_cancel.E040", "graceful_cancel.E041"} & set(check_ids(BASE_TEMPLATE=name))


def test_blocks_are_followed_through_extends_and_adapters(templates_dir):
    write(templates_dir, "site/root.html", "<body>{% block main %}{% endblock %}</body>")
    # An adapter: the site's block "main" holds the flow's "content".
    adapter = write(
        templates_dir,
        "site/adapter.html",
        '{% extends "site/root.html" %}{% block main %}{% block content %}{% endblock %}'
        "{% endblock %}",
    )
    assert "graceful_cancel.E041" not in check_ids(BASE_TEMPLATE=adapter)
    # A "content" block the root never renders shows nothing: still an error.
    orphan = write(
        templates_dir,
        "site/orphan.html",
        '{% extends "site/root.html" %}{% block content %}{% endblock %}',
    )
    assert "graceful_cancel.E041" in check_ids(BASE_TEMPLATE=orphan)
    # A parent chosen at run time cannot be read now: no error is made up.
    dynamic = write(templates_dir, "site/dynamic.html", "{% extends layout %}")
    assert "graceful_cancel.E041" not in check_ids(BASE_TEMPLATE=dynamic)
