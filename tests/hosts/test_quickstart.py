"""docs/quickstart.md leads to the integration the three host sites really run (issue 13).

The page's settings blocks, models, adapter template, hook, apps, URLs and link are read out of
the Markdown and compared with the sites in tests/hosts/; each site then passes the app's system
checks with exactly that configuration. (The flows the page describes are tested per site in
test_<site>.py.)
"""

from __future__ import annotations

import inspect
import re
import textwrap
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.management import get_commands
from django.test import override_settings

from tests.hosts.sites import HERE, ROOT, SITES, prepare_catalogue, serving

QUICKSTART = ROOT / "docs" / "quickstart.md"
#: In the suite the sites are packages under tests/hosts/; in a project they are top-level apps.
PREFIX = "tests.hosts."


def page() -> str:
    return QUICKSTART.read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", page(), re.S)


def unprefixed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: unprefixed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unprefixed(v) for v in value]
    if isinstance(value, str) and value.startswith(PREFIX):
        return value.removeprefix(PREFIX)
    return value


def documented_settings() -> dict[str, dict[str, Any]]:
    """Each complete GRACEFUL_CANCEL block of the page, by the model it names."""
    found: dict[str, dict[str, Any]] = {}
    for block in blocks("python"):
        if not re.search(r"^GRACEFUL_CANCEL = \{", block, re.M):
            continue
        namespace: dict[str, Any] = {}
        exec(block, namespace)  # the page's own code: plain literals
        config = namespace["GRACEFUL_CANCEL"]
        if "SUBSCRIPTION_MODEL" in config:
            assert config["SUBSCRIPTION_MODEL"] not in found, "two blocks for one model"
            found[config["SUBSCRIPTION_MODEL"]] = config
    return found


# --- the page against the sites ----------------------------------------------------------------


@pytest.mark.parametrize("name", list(SITES))
def test_the_pages_settings_block_is_what_the_site_runs_with(name):
    site = SITES[name]
    runs_with = unprefixed(site.graceful_cancel)
    documented = documented_settings().get(runs_with["SUBSCRIPTION_MODEL"])
    assert documented is not None, f"docs/quickstart.md has no block for {name}"
    assert documented == runs_with


def test_the_page_has_a_block_for_each_site_and_no_other():
    assert set(documented_settings()) == {
        s.graceful_cancel["SUBSCRIPTION_MODEL"] for s in SITES.values()
    }


def test_the_keys_every_site_sets_are_each_explained():
    configs = [site.graceful_cancel for site in SITES.values()]
    shared = set.intersection(*(set(c) for c in configs))
    shared = {key for key in shared if not key.startswith("SUBSCRIPTION_")}
    section = page().split("### The keys every site sets", 1)[1].split("\n## ", 1)[0]
    explained = set(re.findall(r"^\| `([A-Z_]+)` \|", section, re.M))
    assert explained == shared
    for key in ("SITE_URL", "FOLLOWUP_DISPATCH", "BASE_TEMPLATE"):
        assert key in explained


def model_blocks() -> dict[str, dict[str, dict[str, str]]]:
    """Site -> model class -> field name -> field class, for each ``# <site>/models.py`` block
    on the page."""
    found: dict[str, dict[str, dict[str, str]]] = {}
    for block in blocks("python"):
        header = re.match(r"# (\w+)/models\.py\n", block)
        if not header:
            continue
        shown = found.setdefault(header.group(1), {})
        for match in re.finditer(
            r"^class (\w+)\(models\.Model\):\n((?:    .*\n|\n)+)", block, re.M
        ):
            shown[match.group(1)] = dict(
                re.findall(r"^    (\w+) = models\.(\w+)\(", match.group(2), re.M)
            )
    return found


@pytest.mark.parametrize("name", list(SITES))
def test_the_models_on_the_page_are_the_sites(name):
    shown = model_blocks().get(name, {})
    label = SITES[name].graceful_cancel["SUBSCRIPTION_MODEL"]
    assert apps.get_model(label).__name__ in shown, f"the page does not show {label}"
    assert len(shown) >= 2, f"the page shows too little of {name}'s models"
    for model_name, fields in shown.items():
        model = apps.get_model(name, model_name)
        real = {
            f.name: type(f).__name__
            for f in model._meta.get_fields()
            if f.concrete and not f.auto_created
        }
        assert fields == real, model_name


def test_the_adapter_template_on_the_page_is_the_magazines():
    adapter = (
        HERE / "magazine" / "templates" / "magazine" / "graceful_cancel_base.html"
    ).read_text()
    assert adapter.strip() in [block.strip() for block in blocks("django")]
    for name in SITES:
        assert (HERE / name / "templates" / name / "graceful_cancel_base.html").exists()


def test_the_hook_on_the_page_is_ledgerlys():
    from tests.hosts.saas.billing import grant_discount

    source = inspect.getsource(grant_discount)
    source = re.sub(r'\n    """.*?"""\n', "\n", source, count=1, flags=re.S)
    documented = [b for b in blocks("python") if "def grant_discount" in b]
    assert len(documented) == 1
    shown = documented[0].split("\n", 1)[1]  # without the "# saas/billing.py" line
    # The same code, without the type hints of the signature and the comments.
    signature, body = shown.split("\n", 1)
    assert signature == "def grant_discount(*, case, offer):"
    assert source.startswith("def grant_discount(*, case: Any, offer: Any)")
    strip = lambda text: re.sub(r"  # .*", "", textwrap.dedent(text)).strip()  # noqa: E731
    assert strip(body) == strip(source.split("\n", 1)[1])


def test_the_apps_urls_link_and_command_on_the_page_are_what_the_sites_use():
    (apps_block,) = [b for b in blocks("python") if "INSTALLED_APPS +=" in b]
    listed = re.findall(r'"([\w.]+)"', apps_block)
    assert listed == ["rest_framework", "anymail", "django_graceful_cancel"]
    assert set(listed) <= set(settings.INSTALLED_APPS)
    assert 'include("django_graceful_cancel.urls")' in page()
    link = "{% url 'graceful_cancel:start' %}"
    assert link in page()
    for name in SITES:
        assert 'include("django_graceful_cancel.urls")' in (HERE / name / "urls.py").read_text()
        templates = (HERE / name / "templates" / name).glob("*.html")
        assert any(link in t.read_text() for t in templates), name
    assert "python manage.py graceful_cancel_send_followups" in page()
    assert "graceful_cancel_send_followups" in get_commands()


# --- the sites pass the checks with exactly that configuration --------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(SITES))
def test_each_site_passes_the_apps_checks_with_that_configuration(name, catalogue):
    with serving(name) as site:
        prepare_catalogue(site)
        site.make_customer("checker")  # its plans and prices exist, as on a live site
        shared_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
        with override_settings(CACHES=shared_cache):  # as step 10 asks in production
            found = checks.run_checks(include_deployment_checks=True, databases=["default"])
    ours = [m for m in found if (m.id or "").startswith("graceful_cancel.")]
    assert [f"{m.id}: {m.msg}" for m in ours if m.level >= checks.WARNING] == []


def test_the_checks_the_page_names_exist():
    """Every check id the page names is one the app can report (its ids are in the source)."""
    source = "\n".join(p.read_text() for p in (ROOT / "django_graceful_cancel").rglob("*.py"))
    named = set(re.findall(r"graceful_cancel\.([EWI]\d{3})", page()))
    named |= {f"E{n}" for n in re.findall(r"\(`E(\d{3})`\)", page())}
    named |= {f"W{n}" for n in re.findall(r"\(`W(\d{3})`\)", page())}
    assert named
    for check_id in named:
        assert f"graceful_cancel.{check_id}" in source or f'"{check_id}"' in source, check_id
