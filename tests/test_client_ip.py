"""The client's address behind proxies (``GRACEFUL_CANCEL["CLIENT_IP"]``, client_ip.py) and the
deploy checks of the rate limits (a shared cache, a proxy without ``CLIENT_IP``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Tags, run_checks
from django.test import RequestFactory, override_settings

from django_graceful_cancel.client_ip import client_ip
from tests.support import gc_settings

PROXY = "10.0.0.2"


def address(config: Any, remote: str = PROXY, forwarded: str | None = None, **meta: str) -> str:
    headers = dict(meta)
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **headers)
    with override_settings(GRACEFUL_CANCEL=gc_settings(CLIENT_IP=config)):
        return client_ip(request)


def test_by_default_the_connection_address_and_never_a_header():
    assert address(None, remote="198.51.100.7", forwarded="192.0.2.1") == "198.51.100.7"
    assert address(None, remote="198.51.100.7", HTTP_X_REAL_IP="192.0.2.1") == "198.51.100.7"


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("198.51.100.1", "198.51.100.1"),
        # What the client wrote itself is left of what the proxy added: never used.
        ("192.0.2.66, 198.51.100.1", "198.51.100.1"),
        ("not-an-address, 198.51.100.1", "198.51.100.1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        # No header: the request did not come through the proxy.
        (None, PROXY),
    ],
)
def test_one_proxy(forwarded: str | None, expected: str):
    assert address({"proxy_count": 1}, forwarded=forwarded) == expected


def test_two_proxies_count_from_the_right():
    config = {"proxy_count": 2}
    assert address(config, forwarded="192.0.2.66, 198.51.100.1, 10.0.0.9") == "198.51.100.1"


def test_trusted_proxies_believe_the_header_only_from_them():
    config = {"proxy_count": 2, "trusted_proxies": ["10.0.0.0/8"]}
    assert address(config, forwarded="198.51.100.1, 10.0.0.9") == "198.51.100.1"
    # Straight to the app, bypassing the proxies: the connection's own address.
    assert address(config, remote="203.0.113.5", forwarded="1.2.3.4, 10.0.0.9") == "203.0.113.5"
    # Through the inner proxy only, with a forged hop: not believed either.
    assert address(config, forwarded="1.2.3.4, 203.0.113.5") == PROXY
    assert address(config, forwarded="198.51.100.1") == PROXY


def test_another_header_and_a_callable():
    config = {"proxy_count": 1, "meta_precedence_order": ["HTTP_X_REAL_IP"]}
    assert address(config, forwarded="192.0.2.66", HTTP_X_REAL_IP="198.51.100.4") == "198.51.100.4"
    assert address("tests.test_client_ip.from_cdn", HTTP_CDN_CLIENT="198.51.100.8") == (
        "198.51.100.8"
    )


def from_cdn(request: Any) -> str:
    return str(request.META.get("HTTP_CDN_CLIENT", ""))


def check_ids(tags: list[str], deploy: bool = False, **settings: Any) -> list[str]:
    with override_settings(**settings):
        return [
            e.id
            for e in run_checks(tags=tags, include_deployment_checks=deploy)
            if e.id and e.id.startswith("graceful_cancel.")
        ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"proxy_count": 0}, "graceful_cancel.E003"),
        ({"proxy_count": "1"}, "graceful_cancel.E003"),
        ({"proxies": 1}, "graceful_cancel.E003"),
        ({"proxy_count": 1, "trusted_proxies": "10.0.0.0/8"}, "graceful_cancel.E003"),
        ({"proxy_count": 1, "trusted_proxies": ["10.0.0.300"]}, "graceful_cancel.E003"),
        ({"proxy_count": 1, "meta_precedence_order": []}, "graceful_cancel.E003"),
        (1, "graceful_cancel.E003"),
        ("tests.test_client_ip.nowhere", "graceful_cancel.E004"),
        ("no.such.module.client_ip", "graceful_cancel.E004"),
    ],
)
def test_a_bad_client_ip_setting_is_reported(value: Any, expected: str):
    found = check_ids([Tags.compatibility], GRACEFUL_CANCEL=gc_settings(CLIENT_IP=value))
    assert expected in found


@pytest.mark.parametrize(
    "value",
    [
        None,
        {"proxy_count": 1},
        {"proxy_count": 2, "trusted_proxies": ["10.0.0.0/8", "2001:db8::1"]},
        "tests.test_client_ip.from_cdn",
    ],
)
def test_good_client_ip_settings_pass(value: Any):
    assert check_ids([Tags.compatibility], GRACEFUL_CANCEL=gc_settings(CLIENT_IP=value)) == []


LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DUMMY = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.internal:6379/1",
    }
}


def deploy_ids(**settings: Any) -> list[str]:
    return check_ids([Tags.security], deploy=True, **settings)


def test_a_per_process_cache_under_the_api_throttle_is_a_deploy_warning():
    for caches in (LOCMEM, DUMMY):
        assert "graceful_cancel.W050" in deploy_ids(CACHES=caches)
    assert "graceful_cancel.W050" not in deploy_ids(CACHES=REDIS)
    # Only a deploy check, and only while the throttle is on.
    assert "graceful_cancel.W050" not in check_ids([Tags.security], CACHES=LOCMEM)
    off = gc_settings(API_WRITE_THROTTLE_RATE=None)
    assert "graceful_cancel.W050" not in deploy_ids(CACHES=LOCMEM, GRACEFUL_CANCEL=off)
    host_rate = {"DEFAULT_THROTTLE_RATES": {"graceful_cancel_write": "10/min"}}
    assert "graceful_cancel.W050" in deploy_ids(
        CACHES=LOCMEM, GRACEFUL_CANCEL=off, REST_FRAMEWORK=host_rate
    )


def test_a_proxy_without_a_client_ip_setting_is_a_deploy_warning():
    proxy = ("HTTP_X_FORWARDED_PROTO", "https")
    assert "graceful_cancel.W051" in deploy_ids(CACHES=REDIS, SECURE_PROXY_SSL_HEADER=proxy)
    configured = gc_settings(CLIENT_IP={"proxy_count": 1})
    assert "graceful_cancel.W051" not in deploy_ids(
        CACHES=REDIS, SECURE_PROXY_SSL_HEADER=proxy, GRACEFUL_CANCEL=configured
    )
    assert "graceful_cancel.W051" not in deploy_ids(CACHES=REDIS, SECURE_PROXY_SSL_HEADER=None)
    # No limit to protect: nothing to say. The shipped mapping gives German and EU customers the
    # no-login pages, so it has to be switched off too.
    no_pages = {"DE": None, "FR": None, "EU": None, "US-MN": None}
    quiet = gc_settings(
        API_WRITE_THROTTLE_RATE=None, COMPLIANCE_PROFILE="default", JURISDICTION_PROFILES=no_pages
    )
    assert "graceful_cancel.W051" not in deploy_ids(
        CACHES=REDIS, SECURE_PROXY_SSL_HEADER=proxy, GRACEFUL_CANCEL=quiet
    )
    eu = gc_settings(API_WRITE_THROTTLE_RATE=None, COMPLIANCE_PROFILE="eu")
    assert "graceful_cancel.W051" in deploy_ids(
        CACHES=REDIS, SECURE_PROXY_SSL_HEADER=proxy, GRACEFUL_CANCEL=eu
    )
