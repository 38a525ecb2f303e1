"""The drop-in web component's template tags ({% load graceful_cancel_component %}) and its
static module. The element itself runs in Chromium on the example site
(example_project/tests/browser/test_web_component.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.template import Context, Template
from django.test import override_settings
from django.urls import include, path
from django.utils import translation

MODULE = "django_graceful_cancel/graceful-cancel-flow.js"


def render(source: str, **context: Any) -> str:
    return Template("{% load graceful_cancel_component %}" + source).render(Context(context))


def test_the_script_tag_loads_the_module_from_the_static_files():
    html = render("{% graceful_cancel_script %}")
    assert html == f'<script type="module" src="/static/{MODULE}"></script>'
    assert finders.find(MODULE), "the module is not among the app's static files"


def test_the_element_points_at_the_api_in_the_request_language_with_a_fallback_link():
    with translation.override("es"):
        html = render('{% graceful_cancel_component account_url="/account/" %}')
    assert html == (
        '<graceful-cancel-flow api="/api/cancel/" language="es" account-url="/account/">'
        '<a href="/account/cancel/">Cancela tu suscripción</a></graceful-cancel-flow>'
    )


def test_options_are_attributes_and_escaped():
    html = render(
        '{% graceful_cancel_component account_url=url reference="GC-1" heading_level=3 '
        'element_id="flow" %}',
        url='/account/?a=1&b="2"',
    )
    assert ' id="flow"' in html and ' reference="GC-1"' in html and ' heading-level="3"' in html
    assert ' account-url="/account/?a=1&amp;b=&quot;2&quot;"' in html
    assert '"2"' not in html


@pytest.mark.parametrize(
    ("profile", "text"),
    [("default", "Cancel your subscription"), ("eu", "Cancel contracts here")],
)
def test_the_fallback_link_says_what_the_profile_s_page_says(settings, profile, text):
    settings.GRACEFUL_CANCEL = {**settings.GRACEFUL_CANCEL, "COMPLIANCE_PROFILE": profile}
    html = render("{% graceful_cancel_component %}")
    assert re.search(rf'<a href="/account/cancel/">{text}</a></graceful-cancel-flow>$', html)


class PagesOnly:
    """A URLconf with the pages but not the API."""

    urlpatterns = [path("cancel/", include("django_graceful_cancel.urls"))]


class Nothing:
    urlpatterns: list[Any] = []


@override_settings(ROOT_URLCONF=PagesOnly)
def test_without_the_api_only_the_fallback_link_is_rendered():
    html = render("{% graceful_cancel_component %}")
    assert html == '<a href="/cancel/">Cancel your subscription</a>'


@override_settings(ROOT_URLCONF=Nothing)
def test_without_api_and_pages_nothing_is_rendered_unless_the_api_is_given():
    assert render("{% graceful_cancel_component %}") == ""
    html = render('{% graceful_cancel_component api="https://api.example.com/cancel/" %}')
    assert html.startswith('<graceful-cancel-flow api="https://api.example.com/cancel/"')


def test_the_module_is_dependency_free_and_defines_one_element():
    source = Path(finders.find(MODULE)).read_text(encoding="utf-8")
    # Nothing imported: no bundler, no CDN, no third party in the cancel path.
    assert not re.search(r"^import\b", source, re.M)
    assert not re.search(r"\bimport\s*\(", source)
    assert re.search(r'^const TAG = "graceful-cancel-flow";$', source, re.M)
    # No globals: nothing assigned to window/globalThis/self.
    assert not re.search(r"\b(window|globalThis|self)\.\w+\s*=", source)
