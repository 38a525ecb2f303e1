"""The offer and confirmation pages inside each host site's base template, in Chromium.

For each site of ``sites.SITES`` the customer starts on the site's own account page, follows its
cancel link, gives a reason, sees the offer, declines it and reads the confirmation; the site's
own row then no longer renews. On the way the pages are measured (the site's layout is there, the
flow's stylesheet once, nothing overflows sideways at desktop or phone width, no text in the flow
below 12px, the heading in proportion) and screenshotted: GC_SCREENSHOTS=1 writes them to
docs/img/hosts-flow/<site>-offer.png and <site>-done.png.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.hosts.sites import SITES, prepare_catalogue, serving

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

MEASURE = """() => {
  const gc = document.querySelector('.gc');
  const cs = (e) => getComputedStyle(e);
  const px = (v) => parseFloat(v);
  const shown = (e) => e.getClientRects().length > 0 && cs(e).visibility !== 'hidden';
  const own = (e) => [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  const small = [...gc.querySelectorAll('*')].filter((e) => shown(e) && own(e))
    .filter((e) => px(cs(e).fontSize) < 12)
    .map((e) => e.tagName + ': ' + e.textContent.trim().slice(0, 40));
  const shouting = [...gc.querySelectorAll('label, p:not(.gc-kicker), li, dd, button, a')]
    .filter((e) => shown(e) && cs(e).textTransform === 'uppercase')
    .map((e) => e.tagName + ': ' + e.textContent.trim().slice(0, 40));
  const h1 = gc.querySelector('h1');
  return {
    host: document.body.dataset.host,
    flowStylesheets: document.querySelectorAll('link[rel=stylesheet][href*="flow.css"]').length,
    siteStylesheets: [...document.styleSheets].filter((s) => s.href && !s.href.includes('flow.css')
      && s.cssRules.length > 0).length,
    flowSize: px(cs(gc).fontSize), h1Size: px(cs(h1).fontSize), small, shouting,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
}"""


def look(page: Any, where: str) -> list[str]:
    """What looks wrong on the page, at desktop and phone width."""
    problems = []
    m = page.evaluate(MEASURE)
    if m["flowStylesheets"] != 1:
        problems.append(f"{where}: flow.css linked {m['flowStylesheets']} times")
    if m["siteStylesheets"] < 1:
        problems.append(f"{where}: the site's own stylesheet did not load")
    if m["flowSize"] < 16:
        problems.append(f"{where}: the flow's text is {m['flowSize']}px")
    if m["h1Size"] < 1.3 * m["flowSize"]:
        problems.append(f"{where}: h1 {m['h1Size']}px against text {m['flowSize']}px")
    if m["small"]:
        problems.append(f"{where}: text below 12px: {m['small']}")
    if m["shouting"]:
        problems.append(
            f"{where}: the site's CSS turned the flow's text to capitals: {m['shouting']}"
        )
    if m["overflow"] > 0:
        problems.append(f"{where}: overflows sideways by {m['overflow']}px at desktop width")
    page.set_viewport_size(PHONE)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    if overflow > 0:
        problems.append(f"{where}: overflows sideways by {overflow}px at phone width")
    page.set_viewport_size({"width": 1280, "height": 900})
    return problems


@pytest.mark.parametrize("name", list(SITES))
def test_the_offer_and_the_confirmation_inside_the_sites_base_template(
    name, catalogue, live_server, signed_in_page, screenshot
):
    with serving(name) as site:
        prepare_catalogue(site)
        user = site.make_customer("morgan")
        page = signed_in_page(user)
        problems: list[str] = []

        page.goto(live_server.url + reverse(site.account))
        page.locator(f"#{site.cancel_link_id}").click()
        assert page.locator("body").get_attribute("data-host") == name
        assert page.locator("h1.gc-heading").inner_text().strip() == "Cancel your subscription"
        problems += look(page, f"{name}, start page")
        page.get_by_label("I am switching to another provider").check()
        page.get_by_label("You may contact me", exact=False).check()
        page.get_by_role("button", name="Continue").click()

        assert page.locator("h1.gc-heading").inner_text().strip() == "Before you go"
        offer = site.data.DOWNGRADE_OFFER
        assert page.locator("#gc-offer-title").inner_text().strip() == offer["title"]
        assert page.locator("body").get_attribute("data-host") == name
        problems += look(page, f"{name}, offer page")
        screenshot(page, f"{name}-offer")

        page.locator("#gc-decline").click()
        assert (
            page.locator("h1.gc-heading").inner_text().strip() == "Your subscription is cancelled"
        )
        assert page.locator("body").get_attribute("data-host") == name
        problems += look(page, f"{name}, done page")
        screenshot(page, f"{name}-done")

        assert site.data.renews(user) is False
        assert not problems, "\n".join(problems)
