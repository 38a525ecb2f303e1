"""The GRACEFUL_CANCEL settings dict: defaults, reloading, and the system checks."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pytest
from django.core.checks import Tags, run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils.module_loading import import_string

from django_graceful_cancel.conf import (
    DEFAULTS,
    SHIPPED_COMPONENTS,
    Configurable,
    Option,
    app_settings,
    declared_options,
    non_negative_int,
)
from django_graceful_cancel.policies import DefaultOfferPolicy
from tests.support import gc_settings


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
    assert ids(errors(SUBSCRIPTION_MODEL="testapp.Nope")) == ["graceful_cancel.E005"]


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


# --- component options (conf.Option, conf.Configurable) ---------------------------------------


class PagerChannel(Configurable):
    """A third-party channel backend with keys of its own."""

    options = {
        "PAGER_URL": Option(required=True, help="where pages are posted"),
        "PAGER_RETRIES": Option(3, valid=non_negative_int, expected="a whole number"),
        "PAGER_LABEL": "graceful-cancel",  # a plain default is short for Option(default)
    }


PAGER = "tests.test_conf.PagerChannel"


def test_component_options_come_from_kwargs_then_settings_then_defaults():
    with override_settings(GRACEFUL_CANCEL=gc_settings(PAGER_URL="https://pager.example")):
        assert PagerChannel().get_option("PAGER_URL") == "https://pager.example"
        assert PagerChannel(pager_url="https://kw.example").get_option("PAGER_URL") == (
            "https://kw.example"
        )
        assert PagerChannel.get_setting("PAGER_RETRIES") == 3
        assert PagerChannel().get_option("PAGER_LABEL") == "graceful-cancel"
    with override_settings(GRACEFUL_CANCEL=gc_settings(PAGER_RETRIES=0)):
        assert PagerChannel().get_option("PAGER_RETRIES") == 0


def test_a_required_option_left_unset_is_an_error_naming_the_key():
    with pytest.raises(ImproperlyConfigured, match=r"GRACEFUL_CANCEL\['PAGER_URL'\]"):
        PagerChannel().get_option("PAGER_URL")
    with pytest.raises(TypeError, match="pager_urll"):
        PagerChannel(pager_urll="https://typo.example")
    with pytest.raises(AttributeError, match="PAGER_NOPE"):
        PagerChannel().get_option("PAGER_NOPE")


def test_a_configured_channels_keys_are_known_and_checked():
    channels = {"sms": PAGER}
    assert ids(errors(FOLLOWUP_CHANNELS=channels)) == ["graceful_cancel.E007"]
    assert errors(FOLLOWUP_CHANNELS=channels, PAGER_URL="https://pager.example") == []
    found = errors(FOLLOWUP_CHANNELS=channels, PAGER_URL="https://p.example", PAGER_RETRIES=-1)
    assert ids(found) == ["graceful_cancel.E003"]
    assert "PAGER_RETRIES" in found[0][1]
    # Without the channel, its keys are unknown.
    assert ids(errors(PAGER_URL="https://pager.example")) == ["graceful_cancel.E002"]


def test_a_channel_backend_that_cannot_be_imported():
    found = errors(FOLLOWUP_CHANNELS={"sms": "nowhere.PagerChannel"})
    assert ids(found) == ["graceful_cancel.E004"]
    assert "'sms'" in found[0][1]


def test_keys_of_a_shipped_backend_that_is_not_configured():
    # The settings keep the model backend; the Stripe keys are accepted next to them...
    assert errors(STRIPE_PRICES={"basic": "price_basic"}, STRIPE_API_KEY=None) == []
    # ...their values are still checked, but not what only the Stripe backend in use needs (E006).
    assert ids(errors(STRIPE_PAUSE_BEHAVIOR="sometimes")) == ["graceful_cancel.E003"]
    # A typo in one is still a typo.
    found = errors(STRIPE_PRICE={"basic": "price_basic"})
    assert ids(found) == ["graceful_cancel.E002"]


def test_the_core_settings_hold_no_components_key():
    for path in SHIPPED_COMPONENTS:
        component = import_string(path)
        assert not set(declared_options(component)) & set(DEFAULTS), path
        assert issubclass(component, Configurable)


def test_a_key_two_shipped_backends_share_is_declared_alike_and_reported_once():
    stripe_path = "django_graceful_cancel.backends.stripe.StripeSubscriptionBackend"
    model = import_string("django_graceful_cancel.backends.model.ModelSubscriptionBackend")
    stripe_backend = import_string(stripe_path)
    shared = set(declared_options(model)) & set(declared_options(stripe_backend))
    assert shared == {"SUBSCRIPTION_ACTIVE_STATUSES"}
    for key in shared:
        assert declared_options(model)[key] == declared_options(stripe_backend)[key]
    found = errors(SUBSCRIPTION_BACKEND=stripe_path, SUBSCRIPTION_ACTIVE_STATUSES=[])
    assert ids(found).count("graceful_cancel.E003") == 1


def test_reading_a_shipped_backends_key_from_app_settings_is_deprecated():
    with (
        override_settings(GRACEFUL_CANCEL=gc_settings(STRIPE_API_BASE="http://127.0.0.1:8420")),
        pytest.deprecated_call(match=r"StripeSubscriptionBackend\.get_setting"),
    ):
        assert app_settings.STRIPE_API_BASE == "http://127.0.0.1:8420"


def test_the_old_stripe_webhooks_module_warns_and_reexports():
    from django_graceful_cancel.backends.stripe import webhooks

    sys.modules.pop("django_graceful_cancel.stripe_webhooks", None)
    with pytest.deprecated_call(match="moved to django_graceful_cancel.backends.stripe.webhooks"):
        old = importlib.import_module("django_graceful_cancel.stripe_webhooks")
    assert old.handle_event is webhooks.handle_event
    assert old.urlpatterns is webhooks.urlpatterns
