"""The GRACEFUL_CANCEL settings dict: defaults, reloading, and the system checks."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Tags, run_checks
from django.test import override_settings

from django_graceful_cancel.conf import DEFAULTS, app_settings
from django_graceful_cancel.policies import DefaultOfferPolicy
from tests.conftest import gc_settings


def errors(**overrides: Any) -> list[tuple[str, str]]:
    with override_settings(GRACEFUL_CANCEL=gc_settings(**overrides)):
        return [
            (e.id, e.msg)
            for e in run_checks(tags=[Tags.compatibility])
            if e.id and e.id.startswith("graceful_cancel.")
        ]


def ids(found: list[tuple[str, str]]) -> list[str]:
    return [i for i, _ in found]


def test_example_settings_pass_the_checks():
    assert errors() == []


def test_defaults_and_reload_on_override():
    assert app_settings.OFFER_COOLDOWN_DAYS == DEFAULTS["OFFER_COOLDOWN_DAYS"] == 365
    with override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_COOLDOWN_DAYS=30)):
        assert app_settings.OFFER_COOLDOWN_DAYS == 30
    assert app_settings.OFFER_COOLDOWN_DAYS == 365


def test_import_strings_are_resolved_at_call_time():
    assert app_settings.OFFER_POLICY is DefaultOfferPolicy
    with override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_POLICY="tests.test_conf.OtherPolicy")):
        assert app_settings.OFFER_POLICY is OtherPolicy
    assert app_settings.raw("OFFER_POLICY") == DEFAULTS["OFFER_POLICY"]


class OtherPolicy(DefaultOfferPolicy):
    pass


def test_unknown_attribute_is_an_error():
    with pytest.raises(AttributeError, match="Invalid GRACEFUL_CANCEL setting"):
        _ = app_settings.NOT_A_SETTING


def test_unknown_key_is_reported_with_a_suggestion():
    found = errors(OFFER_COOLDOWN_DAY=10)
    assert ids(found) == ["graceful_cancel.E002"]
    assert "OFFER_COOLDOWN_DAY" in found[0][1]


def test_unknown_key_hint_names_the_close_match():
    with override_settings(GRACEFUL_CANCEL=gc_settings(OFFER_COOLDOWN_DAY=10)):
        [error] = [
            e for e in run_checks(tags=[Tags.compatibility]) if e.id == "graceful_cancel.E002"
        ]
    assert "OFFER_COOLDOWN_DAYS" in error.hint


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("OFFER_COOLDOWN_DAYS", -1),
        ("OFFER_COOLDOWN_DAYS", "365"),
        ("OFFER_COOLDOWN_DAYS", True),
        ("DEFAULT_EFFECTIVE", "tomorrow"),
        ("COMPLIANCE_PROFILE", "mars"),
        ("SUBSCRIPTION_ACTIVE_STATUSES", []),
        ("SUBSCRIPTION_FIELDS", ["user"]),
        ("ABANDON_AFTER_HOURS", 0),
    ],
)
def test_bad_values_are_reported(key, value):
    assert "graceful_cancel.E003" in ids(errors(**{key: value}))


def test_settings_that_are_not_a_dict():
    with override_settings(GRACEFUL_CANCEL=["nope"]):
        assert [
            e.id for e in run_checks(tags=[Tags.compatibility]) if e.id == "graceful_cancel.E001"
        ] == ["graceful_cancel.E001"]


def test_unimportable_dotted_path():
    found = errors(OFFER_POLICY="nowhere.Policy")
    assert ids(found) == ["graceful_cancel.E004"]


def test_model_backend_needs_a_model():
    with override_settings(GRACEFUL_CANCEL={}):
        assert "graceful_cancel.E005" in [e.id for e in run_checks(tags=[Tags.compatibility])]


def test_model_backend_model_must_exist():
    assert ids(errors(SUBSCRIPTION_MODEL="shop.Nope")) == ["graceful_cancel.E005"]


def test_model_backend_fields_must_exist():
    found = errors(SUBSCRIPTION_FIELDS={"customer": "owner"})
    assert ids(found) == ["graceful_cancel.E005"]
    assert "'customer'" in found[0][1]


def test_model_backend_unknown_field_key():
    assert ids(errors(SUBSCRIPTION_FIELDS={"plna": "plan"})) == ["graceful_cancel.E005"]


def test_other_backends_skip_model_checks():
    assert (
        errors(SUBSCRIPTION_BACKEND="tests.test_conf.OtherBackend", SUBSCRIPTION_MODEL=None) == []
    )


class OtherBackend:
    pass
