"""The follow-up modules' old dotted paths work for one more release, and warn.

Hosts name them in settings (``FOLLOWUP_CHANNELS``), URLconfs and imports; each name read from an
old module is the new module's object, with a ``DeprecationWarning`` naming the new path.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import include

from django_graceful_cancel.followups import (
    actions,
    channels,
    outbox,
    respect,
    sequences,
    urls,
    views,
)
from django_graceful_cancel.followups.channels import base, console, email, phone, twilio
from tests.support import gc_settings

PACKAGE = Path(__file__).resolve().parent.parent / "django_graceful_cancel"

#: (old module, a name in it, the module that holds the name now)
MOVED = [
    ("django_graceful_cancel.services.followups", "schedule_sequence", outbox),
    ("django_graceful_cancel.services.followups", "sweep_followups", outbox),
    ("django_graceful_cancel.services.followups", "SendOutcome", outbox),
    ("django_graceful_cancel.services.followups", "record_tracking_event", actions),
    ("django_graceful_cancel.services.followups", "opt_out", actions),
    ("django_graceful_cancel.services.followups", "quiet_until", respect),
    ("django_graceful_cancel.sequences", "DEFAULT_SEQUENCE", sequences),
    ("django_graceful_cancel.sequences", "plan", sequences),
    ("django_graceful_cancel.channels", "BaseChannel", channels),
    ("django_graceful_cancel.channels", "ChannelError", channels),
    ("django_graceful_cancel.channels.base", "get_channel", base),
    ("django_graceful_cancel.channels.email", "EmailChannel", email),
    ("django_graceful_cancel.channels.console", "ConsoleSMSChannel", console),
    ("django_graceful_cancel.channels.phone", "CallTaskChannel", phone),
    ("django_graceful_cancel.channels.twilio", "TwilioSMSChannel", twilio),
    ("django_graceful_cancel.channels.twilio", "TwilioWhatsAppChannel", twilio),
    ("django_graceful_cancel.links", "make_token", "django_graceful_cancel.followups.links"),
    ("django_graceful_cancel.links", "MessageLinks", "django_graceful_cancel.followups.links"),
    ("django_graceful_cancel.link_views", "unsubscribe", views),
    ("django_graceful_cancel.link_urls", "urlpatterns", urls),
    (
        "django_graceful_cancel.receivers",
        "followup_tracking",
        "django_graceful_cancel.followups.receivers",
    ),
]
OLD_MODULES = sorted({old for old, _, _ in MOVED})


def _new_module(new: object) -> object:
    return importlib.import_module(new) if isinstance(new, str) else new


@pytest.mark.parametrize(("old", "name", "new"), MOVED, ids=[f"{o}.{n}" for o, n, _ in MOVED])
def test_an_old_path_gives_the_new_object_and_warns(old: str, name: str, new: object) -> None:
    module = importlib.import_module(old)
    new_module = _new_module(new)
    expected = f"use {new_module.__name__}.{name}"
    with pytest.warns(DeprecationWarning, match=re.escape(expected)) as caught:
        value = getattr(module, name)
    assert value is getattr(new_module, name)
    [warning] = caught
    assert "will be removed in 0.3" in str(warning.message)
    assert warning.filename == __file__  # stacklevel=2: the line that used the old path


def test_from_import_of_an_old_path_warns() -> None:
    with pytest.warns(DeprecationWarning, match=r"django_graceful_cancel\.followups\.outbox"):
        from django_graceful_cancel.services.followups import send_followup
    assert send_followup is outbox.send_followup


@pytest.mark.parametrize("old", OLD_MODULES)
def test_an_old_module_lists_its_names_and_knows_no_others(old: str) -> None:
    module = importlib.import_module(old)
    assert {name for o, name, _ in MOVED if o == old} <= set(dir(module))
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        module.not_a_name  # noqa: B018


def test_an_old_channel_path_in_the_settings_still_works() -> None:
    settings = gc_settings(
        FOLLOWUP_CHANNELS={"sms": "django_graceful_cancel.channels.twilio.TwilioSMSChannel"}
    )
    with (
        override_settings(GRACEFUL_CANCEL=settings),
        pytest.warns(DeprecationWarning, match=r"followups\.channels\.twilio\.TwilioSMSChannel"),
    ):
        channel = channels.get_channel("sms")
    assert type(channel) is twilio.TwilioSMSChannel


def test_an_old_urlconf_still_includes_the_link_pages() -> None:
    with pytest.warns(DeprecationWarning, match=r"django_graceful_cancel\.followups\.urls"):
        patterns, app_name, namespace = include("django_graceful_cancel.link_urls")
        names = [pattern.name for pattern in patterns.urlpatterns]
    assert names == ["link_unsubscribe", "link_survey", "link_reactivate", "link_export"]
    assert (app_name, namespace) == (None, None)


def _shim_files() -> set[Path]:
    files = set()
    for old in OLD_MODULES:
        path = PACKAGE.parent / old.replace(".", "/")
        files.add(path / "__init__.py" if path.is_dir() else path.with_suffix(".py"))
    return files


def _names_used(path: Path) -> set[str]:
    """Modules a file imports (relative imports resolved), and dotted paths it spells out."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    else:
        package = package.removesuffix(".__init__")
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            module = f"{base}.{node.module}" if node.level and node.module else node.module or base
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.fullmatch(r"django_graceful_cancel(\.\w+)+", node.value)
        ):
            names.add(node.value)
    return names


def test_the_package_itself_uses_no_old_path() -> None:
    shims = _shim_files()
    used = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in shims or "migrations" in path.parts:
            continue
        old = sorted(
            name
            for name in _names_used(path)
            if any(name == o or name.startswith(f"{o}.") for o in OLD_MODULES)
        )
        if old:
            used[str(path.relative_to(PACKAGE))] = old
    assert not used, f"Use the new paths (django_graceful_cancel.followups...): {used}"
