"""The OpenAPI schema at schema/, and the API without drf-spectacular installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "/api/cancel/"


@pytest.fixture
def schema(catalogue: None) -> dict[str, Any]:
    response = APIClient().get(PREFIX + "schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_describes_every_operation_under_the_mount_point(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "django-graceful-cancel API"
    operations = {
        (method.upper(), path) for path, item in schema["paths"].items() for method in item
    }
    assert operations == {
        ("GET", PREFIX + "reasons/"),
        ("GET", PREFIX + "rules/"),
        ("GET", PREFIX + "cases/"),
        ("POST", PREFIX + "cases/"),
        ("GET", PREFIX + "cases/{reference}/"),
        ("POST", PREFIX + "cases/{reference}/reason/"),
        ("POST", PREFIX + "cases/{reference}/hear-offer/"),
        ("POST", PREFIX + "cases/{reference}/no-offer/"),
        ("POST", PREFIX + "cases/{reference}/accept-offer/"),
        ("POST", PREFIX + "cases/{reference}/decline-offer/"),
        ("POST", PREFIX + "cases/{reference}/confirm/"),
        ("POST", PREFIX + "cases/{reference}/reactivate/"),
        ("GET", PREFIX + "analytics/summary/"),
        ("GET", PREFIX + "withdrawal/"),
        ("POST", PREFIX + "withdrawal/"),
    }


def test_every_post_documents_errors_idempotency_and_strict_bodies(schema):
    components = schema["components"]["schemas"]
    for route, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, (method, route)
            if method != "post":
                continue
            assert {"400", "409", "415", "429"} <= codes, route
            assert codes & {"200", "201"}, route
            headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
            assert headers == ["Idempotency-Key"], route
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            body = components[ref.rsplit("/", 1)[1]]
            assert body["additionalProperties"] is False, route
            assert list(operation["requestBody"]["content"]) == ["application/json"]


def test_case_schema_lists_the_representation(schema):
    case = schema["components"]["schemas"]["Case"]
    assert set(case["required"]) >= {
        "reference",
        "status",
        "reason",
        "detail",
        "preferred_channel",
        "message",
        "offer",
        "effective_at",
        "created_at",
        "updated_at",
    }
    assert case["properties"]["offer"]["nullable"] is True
    start = schema["paths"][PREFIX + "cases/"]["post"]["responses"]
    assert {"200", "201", "502", "503"} <= set(start)
    accept = schema["paths"][PREFIX + "cases/{reference}/accept-offer/"]["post"]["responses"]
    assert {"502", "503"} <= set(accept)


def test_reason_enum_is_the_active_catalogue(schema):
    from django_graceful_cancel.models import Reason

    reason = schema["components"]["schemas"]["RecordReasonRequest"]["properties"]["reason"]
    slugs = set(Reason.objects.filter(is_active=True).values_list("slug", flat=True))
    refs = {option.get("$ref", "").rsplit("/", 1)[-1] for option in reason["oneOf"]}
    assert "ReasonEnum" in refs
    enum = schema["components"]["schemas"]["ReasonEnum"]["enum"]
    assert slugs and set(enum) == slugs


def test_schema_follows_the_mount_point(catalogue, settings):
    settings.ROOT_URLCONF = "tests.test_api_schema"
    response = APIClient().get("/elsewhere/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    assert PREFIX + "cases/" not in json.loads(response.content)["paths"]
    assert "/elsewhere/v1/cases/" in json.loads(response.content)["paths"]


def test_api_imports_and_answers_without_drf_spectacular():
    """drf-spectacular is optional: block its import and use the API in a fresh interpreter."""
    script = """
import sys
sys.modules["drf_spectacular"] = None  # any "import drf_spectacular..." now fails
import django
django.setup()
from django.conf import settings


class NoMigrations:
    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


settings.MIGRATION_MODULES = NoMigrations()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.test.runner import DiscoverRunner
runner = DiscoverRunner(verbosity=0)
old = runner.setup_databases()
try:
    from rest_framework.test import APIClient
    from django.contrib.auth import get_user_model
    from django_graceful_cancel.api import schema
    assert schema.HAS_SPECTACULAR is False
    user = get_user_model().objects.create_user("nospec", password="x")
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/cancel/reasons/").status_code == 200
    refused = client.post("/api/cancel/cases/", {}, format="json")
    assert refused.status_code == 409, refused.content
    missing = client.get("/api/cancel/schema/")
    assert missing.status_code == 501 and missing.json()["code"] == "schema_unavailable"
    print("OK")
finally:
    runner.teardown_databases(old)
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("OK")


# A URLconf mounting the API elsewhere, for test_schema_follows_the_mount_point.
from django.urls import include, path  # noqa: E402

urlpatterns = [path("elsewhere/v1/", include("django_graceful_cancel.api.urls"))]


def test_case_schema_carries_the_rules_and_the_offers_promise(schema):
    components = schema["components"]["schemas"]
    case = components["Case"]
    assert "rules" in case["required"]
    rules = components[case["properties"]["rules"]["allOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert set(rules["required"]) == {
        "profile",
        "offers",
        "offer_after_confirm",
        "survey_first",
        "declaration_page",
        "heading",
        "confirm_label",
        "statutory_labels",
        "withdrawal_function",
        "legal_reference",
        "questions",
    }
    assert rules["properties"]["survey_first"]["type"] == "boolean"
    offer = components["Offer"]
    assert "fulfilment" in offer["required"]
    fulfilment = offer["properties"]["fulfilment"]
    assert fulfilment["nullable"] is True
    promise = components[fulfilment["allOf"][0]["$ref"].rsplit("/", 1)[1]]
    assert {"by", "due_at", "message"} <= set(promise["required"])
