"""flow.css read as text, and the stylesheet's place in the page (no browser needed).

- The focus ring has at least 3:1 contrast (WCAG 2.2, 1.4.11 and 2.4.13) with every background the
  flow uses, computed with the WCAG formula from the colours flow.css declares.
- Every rule is scoped under .gc, and text sizes are relative to the flow's own root, so a host's
  10px root font cannot shrink the flow.
- The stylesheet reaches the page even when the host's base template has no ``extra_head``
  block, and docs/templates.md shows the adapter template these tests use.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from tests.hosts_css.hosts import HOSTS, ROOT, STATIC_DIR, TEMPLATES_DIR

FLOW_CSS = ROOT / "django_graceful_cancel" / "static" / "django_graceful_cancel" / "flow.css"
TEMPLATES_MD = ROOT / "docs" / "templates.md"


def css_text() -> str:
    return re.sub(r"/\*.*?\*/", "", FLOW_CSS.read_text(encoding="utf-8"), flags=re.S)


def rules() -> list[tuple[str, str, str]]:
    """(at-rule around it or "", selector list, declarations) for every rule of flow.css."""
    text, found = css_text(), []
    for media in re.finditer(r"(@media[^{]+)\{((?:[^{}]*\{[^{}]*\})*)\s*\}", text):
        found += [
            (media.group(1).strip(), s.strip(), d)
            for s, d in re.findall(r"([^{}]+)\{([^{}]*)\}", media.group(2))
        ]
    outside = re.sub(r"@media[^{]+\{(?:[^{}]*\{[^{}]*\})*\s*\}", "", text)
    found += [("", s.strip(), d) for s, d in re.findall(r"([^{}]+)\{([^{}]*)\}", outside)]
    return found


def custom_properties() -> dict[str, str]:
    (declarations,) = [d for at, s, d in rules() if s == ":where(.gc)"]
    return dict(re.findall(r"(--gc-[\w-]+)\s*:\s*([^;]+?)\s*;", declarations))


def resolve(value: str) -> str | None:
    """A background value as #rrggbb, or None when it paints nothing (none, transparent)."""
    value = value.strip()
    var = re.fullmatch(r"var\((--gc-[\w-]+)\)", value)
    if var:
        value = custom_properties()[var.group(1)]
    if value in ("none", "transparent", "inherit"):
        return None
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", value), f"unexpected background value {value!r}"
    return value.lower()


def luminance(hex_colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(hex_colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def backgrounds() -> dict[str, set[str]]:
    """Every background colour flow.css paints -> the selectors that paint it."""
    found: dict[str, set[str]] = {}
    for _at, selector, declarations in rules():
        for value in re.findall(r"background(?:-color)?\s*:\s*([^;]+)", declarations):
            colour = resolve(value)
            if colour:
                found.setdefault(colour, set()).add(selector)
    return found


def test_the_wcag_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    # The old single-colour ring of issue 14.
    assert contrast("#f5a623", "#ffffff") == pytest.approx(2.03, abs=0.01)


def test_the_focus_ring_has_3_to_1_on_every_background_the_flow_uses() -> None:
    props = custom_properties()
    ring, halo = props["--gc-focus"].lower(), props["--gc-focus-halo"].lower()
    # The ring is what the focus rule draws: the halo (box-shadow) fills the outline offset.
    (focus,) = [d for at, s, d in rules() if ":focus-visible" in s]
    assert "var(--gc-focus)" in focus and "var(--gc-focus-halo)" in focus

    painted = backgrounds()
    buttons = {c for c, selectors in painted.items() if all("gc-button" in s for s in selectors)}
    surfaces = set(painted) - buttons
    # The card, the standalone page, the alert, the fields, and the host's page (assumed white).
    assert {"#ffffff", "#f6f7fb", "#fef3f2"} <= surfaces, surfaces
    assert {props["--gc-accent"].lower(), props["--gc-danger"].lower()} <= buttons, buttons
    report = []
    for colour in sorted(surfaces):
        # The outer ring sits on the surface around the focused element.
        report.append(f"ring {ring} on {colour}: {contrast(ring, colour):.2f}:1")
        assert contrast(ring, colour) >= 3, report[-1]
    for colour in sorted(buttons):
        # The halo sits between a filled button and the ring.
        report.append(f"halo {halo} next to {colour}: {contrast(halo, colour):.2f}:1")
        assert contrast(halo, colour) >= 3, report[-1]
    print("\n".join(report))


def test_the_two_tones_are_visible_on_any_background_at_all() -> None:
    """A host can put the flow on any colour: one of the two tones always keeps 3:1.

    The worst background is the one equally far from both tones, where each ratio is the square
    root of the ratio between the tones: 9:1 between them is 3:1 on every background.
    """
    props = custom_properties()
    ring, halo = props["--gc-focus"].lower(), props["--gc-focus-halo"].lower()
    assert contrast(ring, halo) >= 9
    greys = [f"#{v:02x}{v:02x}{v:02x}" for v in range(256)]
    worst = min(max(contrast(ring, g), contrast(halo, g)) for g in greys)
    assert worst >= 3, worst


def test_the_fields_borders_have_3_to_1_against_the_card() -> None:
    props = custom_properties()
    assert contrast(props["--gc-field-line"], props["--gc-card"]) >= 3


def selectors(selector_list: str) -> list[str]:
    """Split a selector list at its top-level commas (not those inside :is(...))."""
    parts, depth, current = [], 0, ""
    for char in selector_list:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


SCOPED = re.compile(r"^(?::where\(\.gc\)|\.gc)(?=$|[\s:.\[>+~])")


def test_every_rule_is_scoped_under_the_flow() -> None:
    unscoped = []
    for at, selector_list, _ in rules():
        for selector in selectors(selector_list):
            if SCOPED.match(selector) or selector == ".gc-standalone":
                continue  # .gc-standalone is the <body> of the app's own standalone.html
            if at.startswith("@media print") and selector in (".site-header", "nav"):
                continue  # the printed receipt leaves the site's navigation off the paper
            unscoped.append(f"{at} {selector}".strip())
    assert not unscoped, f"rules that reach outside .gc: {unscoped}"


def test_sizes_follow_the_flows_own_root_not_the_hosts() -> None:
    """Only .gc itself is sized against the page (at least 16px); everything inside is in em."""
    for at, selector, declarations in rules():
        for value in re.findall(r"(?<![\w-])font-size\s*:\s*([^;]+)", declarations):
            if selector in (".gc", ".gc-standalone"):
                assert "px" in value, (selector, value)
                continue
            assert re.fullmatch(r"[\d.]+em|inherit", value.strip()), f"{at} {selector}: {value}"
        font = re.search(r"(?<![\w-])font\s*:\s*([^;]+)", declarations)
        if font and selector != ".gc-standalone":
            assert font.group(1).strip() == "inherit", (selector, font.group(1))
    root = " ".join(d for at, s, d in rules() if s == ".gc")
    assert "max(16px, 1rem)" in root
    assert "rem" not in re.sub(r"max\(16px, 1rem\)", "", css_text())


def test_the_colours_are_overridable_in_any_order() -> None:
    """The defaults have zero specificity, so a site's ``.gc { --gc-accent: … }`` always wins."""
    declared = [s for at, s, d in rules() if re.search(r"--gc-[\w-]+\s*:", d)]
    assert declared == [":where(.gc)"]


# --- the stylesheet in the page ---------------------------------------------------------------


@pytest.fixture
def host_templates(settings: Any) -> Any:
    import copy

    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [TEMPLATES_DIR, *templates[0].get("DIRS", [])]
    settings.TEMPLATES = templates
    settings.STATICFILES_DIRS = [*getattr(settings, "STATICFILES_DIRS", []), STATIC_DIR]
    return settings


@pytest.mark.parametrize("host", list(HOSTS))
def test_the_stylesheet_is_in_the_page_whatever_the_hosts_blocks(
    host, host_templates, client, customer, catalogue
) -> None:
    settings = host_templates
    settings.GRACEFUL_CANCEL = {**settings.GRACEFUL_CANCEL, "BASE_TEMPLATE": HOSTS[host]}
    client.force_login(customer)
    html = client.get(reverse("graceful_cancel:start")).content.decode()
    assert f'data-host="{host}"' in html
    head, body = html.split("</head>", 1)
    # Once, at the top of the flow's content: there with or without an extra_head block.
    assert html.count("django_graceful_cancel/flow.css") == 1
    assert re.search(
        r'<div class="gc">\s*<link rel="stylesheet" href="[^"]*/django_graceful_cancel/flow\.css">',
        body,
    )
    assert "Cancel your subscription" in head.split("<title>", 1)[1]


def test_the_docs_show_the_adapter_template_the_tests_use() -> None:
    docs = TEMPLATES_MD.read_text(encoding="utf-8")
    adapter = (TEMPLATES_DIR / "hosts_css" / "bootstrap5" / "graceful_cancel_base.html").read_text()
    expected = adapter.replace('"hosts_css/bootstrap5/base.html"', '"base.html"').strip()
    blocks = re.findall(r"```django\n(.*?)```", docs, re.S)
    assert any(expected in block for block in blocks), "docs/templates.md lost the adapter example"
    site_base = (TEMPLATES_DIR / "hosts_css" / "bootstrap5" / "base.html").read_text()
    for name in ("head_title", "head_extra", "main"):
        assert f"{{% block {name} %}}" in site_base
