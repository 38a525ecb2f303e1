"""The flow looks as designed inside real host sites' base templates (issue 13 item 6, issue 14).

For each host of ``conftest.HOSTS`` the customer goes start -> offer -> done, and on every page
the computed styles say: the stylesheet is there (also without an ``extra_head`` block), no text
is smaller than 12px, the heading is at least 1.3 times the body text (the flow's and the host's),
links are coloured and underlined, labels of radios and checkboxes are not bold, the keyboard
focus ring shows with at least 3:1 against what surrounds it, and nothing outside ``.gc`` changes
when the flow's stylesheet is taken away.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from tests.hosts_css.hosts import HOSTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# One look at the page's computed styles; every number in CSS pixels.
MEASURE = """() => {
  const gc = document.querySelector('.gc');
  const cs = (e) => getComputedStyle(e);
  const px = (v) => parseFloat(v);
  const shown = (e) => e.getClientRects().length > 0 && cs(e).visibility !== 'hidden';
  const own = (e) => [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  const texts = [...gc.querySelectorAll('*')].filter((e) => shown(e) && own(e))
    .map((e) => ({tag: e.tagName.toLowerCase(), cls: e.className,
                  text: e.textContent.trim().slice(0, 40), size: px(cs(e).fontSize)}));
  const links = [...gc.querySelectorAll('a:not(.gc-button), .gc-link')].filter(shown)
    .map((e) => ({text: e.textContent.trim(), color: cs(e).color,
                  decoration: cs(e).textDecorationLine}));
  const choiceLabels = [...gc.querySelectorAll('label')]
    .filter((l) => l.control && ['radio', 'checkbox'].includes(l.control.type))
    .map((l) => ({text: l.textContent.trim(), weight: Number(cs(l).fontWeight)}));
  const hints = [...gc.querySelectorAll('.gc-hint, .gc-optional, .gc-kicker')].filter(shown)
    .map((e) => ({text: e.textContent.trim().slice(0, 40), size: px(cs(e).fontSize)}));
  const h1 = gc.querySelector('h1');
  return {
    host: document.body.dataset.host,
    flowStylesheets: document.querySelectorAll('link[rel=stylesheet][href*="flow.css"]').length,
    flowSize: px(cs(gc).fontSize), flowColor: cs(gc).color, flowMaxWidth: px(cs(gc).maxWidth),
    bodySize: px(cs(document.body).fontSize),
    h1Size: px(cs(h1).fontSize), h1Weight: Number(cs(h1).fontWeight),
    texts, links, choiceLabels, hints,
  };
}"""

# What the keyboard focus looks like on the focused element, and what is around it.
FOCUS = """() => {
  const el = document.activeElement;
  const cs = (e) => getComputedStyle(e);
  const opaque = (c) => c !== 'transparent' && !/rgba\\(.*, 0\\)$/.test(c);
  let behind = el.parentElement;
  while (behind && !opaque(cs(behind).backgroundColor)) behind = behind.parentElement;
  return {
    inFlow: !!el.closest('.gc'), id: el.id, tag: el.tagName.toLowerCase(),
    outlineStyle: cs(el).outlineStyle, outlineWidth: parseFloat(cs(el).outlineWidth),
    outlineColor: cs(el).outlineColor, outlineOffset: parseFloat(cs(el).outlineOffset),
    boxShadow: cs(el).boxShadow, background: cs(el).backgroundColor,
    behind: behind ? cs(behind).backgroundColor : 'rgb(255, 255, 255)',
  };
}"""

# A signature of every element outside the flow, to compare with and without flow.css.
HOST_SIGNATURE = """() => [...document.querySelectorAll('body *')].filter((e) => !e.closest('.gc'))
  .map((e) => { const s = getComputedStyle(e);
    return [e.tagName, s.fontSize, s.fontWeight, s.color, s.backgroundColor, s.display,
            s.margin, s.padding, s.textDecorationLine, s.lineHeight].join('|'); })"""


def rgb(css: str) -> tuple[float, float, float]:
    match = re.match(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)", css)
    assert match, f"not an rgb() colour: {css}"
    r, g, b = (float(v) for v in match.groups())
    return r, g, b


def opaque(css: str) -> bool:
    alpha = re.match(r"rgba\([^)]*,\s*([\d.]+)\)$", css)
    return css != "transparent" and not (alpha and float(alpha.group(1)) == 0)


def contrast(a: str, b: str) -> float:
    """The WCAG 2 contrast ratio of two computed CSS colours."""

    def luminance(colour: str) -> float:
        def channel(c: float) -> float:
            c /= 255
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(c) for c in rgb(colour))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


class Problems(list):
    """Everything that looks wrong on the pages, reported together at the end of a test."""

    def check(self, ok: object, message: str) -> None:
        if not ok:
            self.append(message)


def check_looks(
    page: Any, host: str, step: str, problems: Problems, *, radios: bool = False
) -> None:
    m = page.evaluate(MEASURE)
    where = f"{host}, {step} page"
    check = problems.check
    check(m["host"] == host, f"{where}: the page did not extend the host's base template")
    check(m["flowStylesheets"] == 1, f"{where}: flow.css linked {m['flowStylesheets']} times")
    # The stylesheet applied, and the flow keeps its own size whatever the host's root font.
    check(m["flowSize"] >= 16, f"{where}: the flow's text is {m['flowSize']}px")
    check(m["flowMaxWidth"] == pytest.approx(44 * m["flowSize"]), f"{where}: flow.css not applied")
    small = [t for t in m["texts"] if t["size"] < 12]
    check(not small, f"{where}: text below 12px: {small}")
    small = [h for h in m["hints"] if h["size"] < 12]
    check(not small, f"{where}: hints below 12px: {small}")
    # Headings in proportion to the flow's text and to the host's.
    body = max(m["flowSize"], m["bodySize"])
    check(m["h1Size"] >= 1.3 * body, f"{where}: h1 {m['h1Size']}px against text {body}px")
    check(m["h1Weight"] >= 600, f"{where}: h1 weight {m['h1Weight']}")
    check(m["links"], f"{where}: no link found in the flow")
    for link in m["links"]:
        check("underline" in link["decoration"], f"{where}: link not underlined: {link}")
        check(link["color"] != m["flowColor"], f"{where}: link coloured like text: {link}")
    check(m["choiceLabels"] or not radios, f"{where}: expected radio and checkbox labels")
    bold = [label for label in m["choiceLabels"] if label["weight"] > 500]
    check(not bold, f"{where}: bold labels of radios and checkboxes: {bold}")


def tab_to(page: Any, target: str | None = None, limit: int = 60) -> dict[str, Any]:
    """Press Tab until the focus is in the flow (on ``#target`` when given); describe the ring."""
    focus = page.evaluate(FOCUS)
    for _ in range(limit):
        if focus["inFlow"] and (target is None or focus["id"] == target):
            return focus
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
    raise AssertionError(f"Tab never reached {target or 'the flow'}")


def check_focus_ring(focus: dict[str, Any], where: str, problems: Problems) -> None:
    check = problems.check
    check(focus["outlineStyle"] == "solid", f"{where}: no focus outline: {focus}")
    check(focus["outlineWidth"] >= 2, f"{where}: focus outline too thin: {focus}")
    halo = re.match(r"(rgba?\([^)]*\))", focus["boxShadow"] or "")
    check(halo, f"{where}: no focus halo: {focus}")
    # The ring against what surrounds it (card or page) ...
    ratio = contrast(focus["outlineColor"], focus["behind"])
    check(ratio >= 3, f"{where}: focus ring {ratio:.2f}:1 against {focus['behind']}")
    # ... and, on a filled button, one of its two tones against the button.
    if opaque(focus["background"]) and rgb(focus["background"]) != rgb(focus["behind"]):
        tones = [focus["outlineColor"], *([halo.group(1)] if halo else [])]
        best = max(contrast(tone, focus["background"]) for tone in tones)
        check(best >= 3, f"{where}: focus ring {best:.2f}:1 against the button: {focus}")


def check_focus(page: Any, where: str, target: str, problems: Problems) -> None:
    """The ring on the first stop in the flow, then on the button ``#target``."""
    page.locator("body").focus()
    first = tab_to(page)
    check_focus_ring(first, f"{where}, first stop in the flow ({first['tag']})", problems)
    if first["id"] != target:
        check_focus_ring(tab_to(page, target), f"{where}, #{target}", problems)
    page.locator(f"#{target}").blur()


@pytest.mark.parametrize("host", list(HOSTS))
def test_flow_looks_as_designed_in_the_host(
    host, use_host, host_customer, signed_in_page, live_server, host_shots
):
    use_host(host)
    page = signed_in_page(host_customer)
    problems = Problems()

    page.goto(live_server.url + reverse("graceful_cancel:start"))
    assert page.locator("h1").inner_text().strip() == "Cancel your subscription"
    check_looks(page, host, "start", problems, radios=True)
    check_focus(page, f"{host}, start page", "gc-cancel-now", problems)

    page.get_by_label("It costs too much for what I get").check()
    page.get_by_role("button", name="Continue").click()
    assert page.locator("h1").inner_text().strip() == "Before you go"
    check_looks(page, host, "offer", problems)
    check_focus(page, f"{host}, offer page", "gc-accept", problems)
    host_shots(page, f"{host}-offer")

    page.locator("#gc-decline").click()
    assert page.locator("h1").inner_text().strip() == "Your subscription is cancelled"
    check_looks(page, host, "done", problems)
    check_focus(page, f"{host}, done page", "gc-reactivate", problems)
    host_shots(page, f"{host}-done")

    # Scoped: taking flow.css away changes nothing outside .gc.
    with_flow = page.evaluate(HOST_SIGNATURE)
    page.evaluate("document.querySelector('link[href*=\"flow.css\"]')?.remove()")
    problems.check(
        page.evaluate(HOST_SIGNATURE) == with_flow, f"{host}: flow.css restyles the host"
    )

    assert not problems, "\n".join(problems)
