"""The example site's single-page account page (/account/spa/), which runs the cancellation flow
in the drop-in web component; the component itself is driven in Chromium in
browser/test_web_component.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from django_graceful_cancel import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline_confirmations")]


def test_the_classic_account_page_links_to_it(client, alice):
    client.force_login(alice)
    html = client.get(reverse("shop:account")).content.decode()
    assert f'href="{reverse("shop:account-spa")}"' in html


def test_it_needs_a_login(client, alice):
    response = client.get(reverse("shop:account-spa"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_renders_the_element_with_its_fallback_link_and_sets_the_csrf_cookie(client, alice):
    client.force_login(alice)
    response = client.get(reverse("shop:account-spa"), HTTP_ACCEPT_LANGUAGE="es")
    html = response.content.decode()
    assert response.cookies["csrftoken"].value  # the element sends it back in X-CSRFToken
    assert (
        '<graceful-cancel-flow id="cancel-flow" api="/api/cancel/" language="es" '
        'account-url="/account/spa/"><a href="/account/cancel/">Cancela tu suscripción</a>'
        "</graceful-cancel-flow>"
    ) in html
    assert (
        '<script type="module" src="/static/django_graceful_cancel/graceful-cancel-flow.js">'
        in html
    )
    assert 'src="/static/shop/account-spa.js"' in html


def test_a_cancellation_that_can_be_undone_opens_on_its_receipt(client, alice):
    client.force_login(alice)
    case, _ = services.start_case(alice)
    services.confirm_cancellation(case)
    html = client.get(reverse("shop:account-spa")).content.decode()
    assert f' reference="{case.reference}"' in html


def test_nothing_to_cancel_no_element(client, alice):
    alice.subscriptions.update(cancel_at_period_end=True)  # ended elsewhere, no case here
    client.force_login(alice)
    html = client.get(reverse("shop:account-spa")).content.decode()
    assert "<graceful-cancel-flow" not in html
    assert "graceful-cancel-flow.js" not in html
