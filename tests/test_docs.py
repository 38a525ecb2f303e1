"""The documentation keeps up with the code: settings, checks, signals, tasks, commands, nav.

These tests read the source and the Markdown; they need no database and run in well under a
second. `make docs` builds the site itself in strict mode (broken links fail there).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from django_graceful_cancel import conf

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGE = ROOT / "django_graceful_cancel"


def read(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text under ``### `heading` `` up to the next heading of level 2 or 3."""
    match = re.search(rf"^###\s+`{re.escape(heading)}`\s*$(.*?)(?=^##|\Z)", text, re.M | re.S)
    return match.group(1) if match else ""


# --- configuration ----------------------------------------------------------------------------


def documented_settings(page: str = "configuration.md") -> dict[str, str]:
    """Key -> the text of its "Default: `...`" line in a docs page (the core keys' by default)."""
    found = {}
    for match in re.finditer(
        r"^###\s+`([A-Z0-9_]+)`\s*\n\s*\nDefault:\s*`(.*?)`\s*$", read(page), re.M
    ):
        found[match.group(1)] = match.group(2)
    return found


def _normalise(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


def shipped_components() -> dict[str, Any]:
    """Each component shipped with the app (conf.SHIPPED_COMPONENTS) by dotted path."""
    from django.utils.module_loading import import_string

    return {path: import_string(path) for path in conf.SHIPPED_COMPONENTS}


def component_defaults(component: Any) -> dict[str, Any]:
    return {name: option.default for name, option in conf.declared_options(component).items()}


def every_known_key() -> set[str]:
    keys = set(conf.DEFAULTS)
    for component in shipped_components().values():
        keys |= set(conf.declared_options(component))
    return keys


def assert_documented(defaults: dict[str, Any], page: str, what: str) -> None:
    """Every key of ``defaults`` has its section in ``page``, with the same default."""
    documented = documented_settings(page)
    missing = sorted(set(defaults) - set(documented))
    assert not missing, (
        f"Add these {what} keys to docs/{page}, each as\n"
        "### `KEY`\n\nDefault: `<python literal>`\n\n<what it does>\n\nMissing: "
        + ", ".join(missing)
    )
    wrong = {}
    for key, text in documented.items():
        if key not in defaults:
            continue
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            wrong[key] = f"{text!r} is not a Python literal"
            continue
        if _normalise(value) != _normalise(defaults[key]):
            wrong[key] = f"docs say {text}, the code has {defaults[key]!r}"
    assert not wrong, f"Defaults differ in docs/{page}: {wrong}"


def test_every_setting_is_documented_with_its_default() -> None:
    assert_documented(conf.DEFAULTS, "configuration.md", "GRACEFUL_CANCEL")


def test_no_documented_setting_is_unknown() -> None:
    unknown = sorted(set(documented_settings()) - set(conf.DEFAULTS))
    assert not unknown, (
        f"docs/configuration.md documents keys conf.DEFAULTS lacks: {unknown} "
        "(a backend's keys go on its own page)"
    )


@pytest.mark.parametrize("path", conf.SHIPPED_COMPONENTS)
def test_every_option_of_a_shipped_component_is_documented_on_its_page(path: str) -> None:
    component = shipped_components()[path]
    docs = component.options_docs
    assert docs.startswith("docs/"), f"{path}.options_docs must name its page in docs/"
    page = docs.removeprefix("docs/").split("#")[0]
    defaults = component_defaults(component)
    assert defaults, f"{path} declares no options"
    assert_documented(defaults, page, component.__name__)
    unknown = sorted(set(documented_settings(page)) - set(defaults))
    assert not unknown, (
        f"docs/{page} documents keys {component.__name__} does not declare: {unknown}"
    )


def test_settings_named_anywhere_in_the_docs_exist() -> None:
    known = every_known_key()
    stale = set()
    for page in DOCS.glob("*.md"):
        for key in re.findall(r"GRACEFUL_CANCEL\[\s*[\"']([A-Z0-9_]+)[\"']", page.read_text()):
            if key not in known:
                stale.add(f"{page.name}: {key}")
    assert not stale, f"Docs name settings that do not exist: {sorted(stale)}"


def test_every_system_check_id_is_documented() -> None:
    ids = set()
    for path in PACKAGE.rglob("*.py"):
        ids.update(re.findall(r"graceful_cancel\.[EW]\d{3}", path.read_text(encoding="utf-8")))
    assert ids, "no system check ids found: did checks.py move?"
    page = read("configuration.md")
    missing = sorted(i for i in ids if f"`{i}`" not in page)
    assert not missing, f"Document these system check ids in docs/configuration.md: {missing}"


# --- signals --------------------------------------------------------------------------------


def signal_definitions() -> dict[str, list[str]]:
    """Signal name -> the arguments its ``#:`` comment in signals.py lists after "Args:"."""
    source = (PACKAGE / "signals.py").read_text(encoding="utf-8")
    lines = source.splitlines()
    signals: dict[str, list[str]] = {}
    for node in ast.parse(source).body:
        if not (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", None) == "Signal"
        ):
            continue
        comment: list[str] = []
        index = node.lineno - 2
        while index >= 0 and lines[index].lstrip().startswith("#:"):
            comment.insert(0, lines[index].lstrip()[2:].strip())
            index -= 1
        text = " ".join(comment)
        args_text = text.split("Args:", 1)[1] if "Args:" in text else ""
        for target in node.targets:
            if isinstance(target, ast.Name):
                signals[target.id] = re.findall(r"``([a-z_][a-z0-9_]*)``", args_text)
    return signals


def test_signals_are_found() -> None:
    from django.dispatch import Signal

    from django_graceful_cancel import signals as module

    defined = signal_definitions()
    actual = {name for name, value in vars(module).items() if isinstance(value, Signal)}
    assert defined.keys() == actual


@pytest.mark.parametrize("name", sorted(signal_definitions()))
def test_every_signal_is_documented_with_its_arguments(name: str) -> None:
    args = signal_definitions()[name]
    assert args, f"signals.py: document {name}'s arguments in its #: comment (Args: ``case``, ...)"
    text = section(read("signals.md"), name)
    assert text, f"docs/signals.md has no section ### `{name}`"
    missing = [arg for arg in args if f"`{arg}`" not in text]
    assert not missing, f"docs/signals.md: {name} does not mention {missing}"


# --- operations -----------------------------------------------------------------------------


def celery_task_names() -> set[str]:
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for decorator in node.decorator_list:
                if not isinstance(decorator, ast.Call):
                    continue
                func = decorator.func
                func_name = getattr(func, "id", None) or getattr(func, "attr", None)
                if func_name not in ("shared_task", "task"):
                    continue
                name = next(
                    (
                        kw.value.value
                        for kw in decorator.keywords
                        if kw.arg == "name" and isinstance(kw.value, ast.Constant)
                    ),
                    f"{path.stem}.{node.name}",
                )
                names.add(name)
    return names


def test_every_celery_task_is_in_the_deployment_guide() -> None:
    names = celery_task_names()
    assert names, "no Celery tasks found"
    page = read("deployment.md")
    missing = sorted(name for name in names if name not in page)
    assert not missing, f"docs/deployment.md does not mention these Celery tasks: {missing}"


def test_every_management_command_is_in_the_deployment_guide() -> None:
    commands = sorted(
        p.stem
        for p in (PACKAGE / "management" / "commands").glob("*.py")
        if not p.stem.startswith("_")
    )
    page = read("deployment.md")
    missing = [c for c in commands if f"`{c}`" not in page]
    assert not missing, f"docs/deployment.md does not list these commands: {missing}"


# --- the site -------------------------------------------------------------------------------


def nav_pages() -> list[str]:
    """Pages named in mkdocs.yml's nav (read as text: the file needs no YAML library)."""
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = config.split("\nnav:", 1)[1]
    return re.findall(r":\s*([\w/.-]+\.md)\s*$", nav, re.M)


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    pages = nav_pages()
    on_disk = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(set(on_disk) - set(pages)) == [], "pages missing from mkdocs.yml's nav"
    missing = sorted(set(pages) - set(on_disk))
    assert not missing, f"mkdocs.yml's nav names pages that do not exist yet: {missing}"


def test_changelog_page_includes_the_changelog() -> None:
    assert (ROOT / "CHANGELOG.md").exists()
    assert '--8<-- "CHANGELOG.md"' in read("changelog.md")


# --- the examples in the guides ---------------------------------------------------------------

GUIDES = ["index.md", "quickstart.md", "concepts.md", "backends.md", "deployment.md", "signals.md"]


def python_blocks(page: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", read(page), re.M | re.S)


@pytest.mark.parametrize("page", GUIDES)
def test_python_examples_are_valid_python(page: str) -> None:
    for block in python_blocks(page):
        try:
            ast.parse(block)
        except SyntaxError as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"docs/{page}: example does not parse ({exc}):\n{block}")


def _example_module(page: str, marker: str, name: str) -> Any:
    """Run the example of ``page`` that contains ``marker`` as module ``name``."""
    import sys
    import types

    block = next(b for b in python_blocks(page) if marker in b)
    module = types.ModuleType(name)
    exec(compile(block, f"docs/{page}", "exec"), module.__dict__)
    sys.modules[name] = module
    return module


@pytest.mark.django_db
def test_the_custom_offer_policy_example_works(make_customer: Any, catalogue: Any) -> None:
    from django.test import override_settings

    from django_graceful_cancel import services
    from tests.support import gc_settings

    _example_module("backends.md", "class IdealCustomerPolicy", "docs_example_policies")
    path = "docs_example_policies.IdealCustomerPolicy"

    cases = {}
    for name, plan, tenure in [
        ("premium", "premium", 400),
        ("cheap", "basic", 400),
        ("newcomer", "premium", 10),
        ("default", "basic", 400),
    ]:
        cases[name], _ = services.start_case(make_customer(plan=plan, tenure_days=tenure))
        services.record_reason(cases[name], "price")
    # The default policy offers the discount for "price" whatever the plan...
    assert services.present_offer(cases["default"]).offer.kind == "discount"
    with override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_POLICY=path)):
        # ...the example keeps it for plans of 15 or more, after the first month.
        assert services.present_offer(cases["premium"]).offer.kind == "discount"
        assert services.present_offer(cases["cheap"]) is None
        assert services.present_offer(cases["newcomer"]) is None


def test_the_custom_backend_example_implements_the_interface() -> None:
    from django_graceful_cancel.backends.base import BaseSubscriptionBackend

    module = _example_module("backends.md", "class ChargeDeskBackend", "docs_example_backend")
    backend = module.ChargeDeskBackend()
    assert isinstance(backend, BaseSubscriptionBackend)
    for method in ("get_active_subscription", "get_subscription", "cancel", "reactivate"):
        assert getattr(type(backend), method) is not getattr(BaseSubscriptionBackend, method)


def test_the_backend_options_example_is_configurable_and_checked() -> None:
    """A third-party backend's own key (ACME_TOKEN) is accepted, read and checked."""
    from django.core.exceptions import ImproperlyConfigured
    from django.test import override_settings

    from django_graceful_cancel.checks import check_settings
    from tests.support import gc_settings

    module = _example_module("backends.md", "class AcmeBackend", "docs_example_acme")
    acme = gc_settings(SUBSCRIPTION_BACKEND="docs_example_acme.AcmeBackend")

    def ids(**overrides: Any) -> list[str]:
        with override_settings(GRACEFUL_CANCEL={**acme, **overrides}):
            return [str(m.id) for m in check_settings()]

    assert ids(ACME_TOKEN="tok") == []  # its keys are known while it is the backend
    assert ids() == ["graceful_cancel.E007"]  # the required key is missing
    assert ids(ACME_TOKEN="tok", ACME_TIMEOUT=0) == ["graceful_cancel.E003"]
    assert ids(ACME_TOKEN="tok", ACME_SANDBOX=True) == ["acme.W001"]  # its own check runs
    assert ids(ACME_TOKEN="tok", ACME_TOKN="tok") == ["graceful_cancel.E002"]
    with override_settings(GRACEFUL_CANCEL={**acme, "ACME_TOKEN": "tok"}):
        assert module.AcmeBackend().headers() == {"Authorization": "Bearer tok"}
        assert module.AcmeBackend(acme_token="kw").headers() == {"Authorization": "Bearer kw"}
    with (
        override_settings(GRACEFUL_CANCEL=acme),
        pytest.raises(ImproperlyConfigured, match="ACME_TOKEN"),
    ):
        module.AcmeBackend().headers()
    # With another backend configured, the same key is a likely typo.
    with override_settings(GRACEFUL_CANCEL=gc_settings(ACME_TOKEN="tok")):
        assert [m.id for m in check_settings()] == ["graceful_cancel.E002"]


def test_the_beat_schedule_example_names_real_tasks() -> None:
    module = _example_module("deployment.md", "CELERY_BEAT_SCHEDULE", "docs_example_beat")
    scheduled = {entry["task"] for entry in module.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= celery_task_names(), scheduled - celery_task_names()
