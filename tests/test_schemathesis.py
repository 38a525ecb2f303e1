"""schemathesis fuzzes the API from its own OpenAPI schema: no 5xx, no response off the schema.

It runs in-process against the example project's WSGI application, authenticated by token as a
customer with a subscription and an open case. Examples are bounded and derandomized, so a run
is repeatable and takes well under a minute and a half.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode

from django_graceful_cancel import services
from django_graceful_cancel.models import CancellationCase
from tests.support import gc_settings

pytestmark = pytest.mark.django_db

SCHEMA_PATH = "/api/cancel/schema/?format=json"


@pytest.fixture
def fuzz_customer(make_customer: Any, catalogue: None) -> Any:
    user = make_customer("fuzzy")
    case, _ = services.start_case(user)
    services.record_reason(case, "price")
    services.present_offer(case)
    return user


@pytest.fixture
def wsgi_app(settings: Any) -> Iterator[WSGIHandler]:
    # Requests run in this thread, inside the test's transaction: Django must not close the
    # connection at the end of each request as it would in production (its test client does
    # the same).
    settings.GRACEFUL_CANCEL = gc_settings(API_WRITE_THROTTLE_RATE=None)
    cache.clear()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app: WSGIHandler, fuzz_customer: Any) -> Any:
    loaded = schemathesis.openapi.from_wsgi(SCHEMA_PATH, wsgi_app)
    token, _ = Token.objects.get_or_create(user=fuzz_customer)

    class TokenAuth:
        """The customer's DRF token on every request (schemathesis then knows it is valid)."""

        def get(self, case: Any, context: Any) -> str:
            return token.key

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Token {data}"

    loaded.auth.auth(refresh_interval=None)(TokenAuth)
    return loaded


#: Every operation of the API. schemathesis's own pytest plugin does not run on pytest 9 yet, so
#: the operations are listed here and driven through Hypothesis directly; the first test makes
#: sure this list and the schema agree.
OPERATIONS = [
    ("GET", "/api/cancel/reasons/"),
    ("GET", "/api/cancel/cases/"),
    ("POST", "/api/cancel/cases/"),
    ("GET", "/api/cancel/cases/{reference}/"),
    ("POST", "/api/cancel/cases/{reference}/reason/"),
    ("POST", "/api/cancel/cases/{reference}/accept-offer/"),
    ("POST", "/api/cancel/cases/{reference}/decline-offer/"),
    ("POST", "/api/cancel/cases/{reference}/confirm/"),
    ("POST", "/api/cancel/cases/{reference}/reactivate/"),
    ("GET", "/api/cancel/analytics/summary/"),
]


def test_the_fuzzed_operations_are_all_of_the_schema(api_schema: Any) -> None:
    found = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


#: Operations with an input that can be made invalid (a body, a query or a header).
NEGATABLE = [op for op in OPERATIONS if op[0] == "POST" or op[1].endswith(("/cases/", "/summary/"))]


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [(*op, GenerationMode.POSITIVE) for op in OPERATIONS]
    + [(*op, GenerationMode.NEGATIVE) for op in NEGATABLE],
)
def test_api_matches_its_schema_and_never_fails(
    api_schema: Any,
    fuzz_customer: Any,
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = api_schema[path][method]
    statuses: list[int] = []
    if path.endswith("/reactivate/"):
        # Only a cancelled case can be reactivated: start from one.
        services.confirm_cancellation(
            CancellationCase.objects.get(customer=fuzz_customer), effective="period_end"
        )

    @given(case=operation.as_strategy(generation_mode=mode, auth_storage=api_schema.auth))
    @settings(
        max_examples=25,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        reference = case.path_parameters.get("reference") if case.path_parameters else None
        # Random references only reach the 404: about half of the well-formed ones are swapped
        # for the customer's latest case, so that the flow's states are exercised as well.
        if isinstance(reference, str) and reference and "/" not in reference and len(reference) % 2:
            latest = (
                CancellationCase.objects.filter(customer=fuzz_customer)
                .order_by("-created_at", "-pk")
                .values_list("reference", flat=True)
                .first()
            )
            if latest:
                case.path_parameters["reference"] = latest
        statuses.append(case.call_and_validate().status_code)

    run()
    # The run reached the API's logic, not only its refusals (analytics is staff-only: a 403).
    if mode == GenerationMode.POSITIVE and not path.endswith("/summary/"):
        assert any(200 <= code < 300 for code in statuses), statuses
