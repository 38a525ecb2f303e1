"""schemathesis fuzzes the example site's API from its own OpenAPI schema: no 5xx, no response off
the schema, no request the schema allows refused (and none it forbids accepted).

It runs in-process against the example site's WSGI application (these smoke tests' settings:
config/settings.py with a throw-away database), authenticated by token as a customer with a
subscription and an open case, through schemathesis's Python API (its pytest plugin does not run
on pytest 9 yet), in two phases:

* every operation on its own, with positive and (where there is input to break) negative data;
* the stateful phase: schemathesis chains the operations along the links it infers from the
  schema (start a case, then answer, accept, decline, confirm or reactivate it), so the checks
  also run on the states a real client walks through.

Examples are bounded and derandomised: a run is repeatable and takes well under a minute.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from django_graceful_cancel import services
from django_graceful_cancel.models import CancellationCase, IdempotencyKey
from django_graceful_cancel.services import flow
from tests.support import gc_settings

pytestmark = pytest.mark.django_db

SCHEMA_PATH = "/api/cancel/schema/?format=json"

#: The schema's ``format: phone`` (api/schema.py): numbers the service accepts. Without it the
#: fuzzer would send any string matching the field's pattern, which the service then refuses as
#: no phone number (a check it cannot express as a pattern).
PHONE_NUMBERS = ["+34 600 123 456", "+34600000000", "+1 202 555 0143", "+44 20 7946 0958"]
schemathesis.openapi.format("phone", st.sampled_from(["", *PHONE_NUMBERS]))


def positive_data_acceptance_but_the_cases_channel(ctx: Any, response: Any, case: Any) -> Any:
    """schemathesis's ``positive_data_acceptance``, but for the one rule a schema cannot state.

    A reason body that leaves ``preferred_channel`` out keeps the case's channel; with consent,
    a phone channel then needs a number (``flow.check_reason``, documented on the field). The
    schema states the rule for a channel named in the body; this lets through exactly that 400
    on a case whose stored channel is a phone channel.
    """
    body = case.body if isinstance(case.body, dict) else {}
    if (
        response.status_code == 400
        and case.operation.path.endswith("/reason/")
        and "preferred_channel" not in body
        and body.get("contact_consent") is True
        and not body.get("contact_phone")
        and response.json() == {"contact_phone": [str(flow.PHONE_REQUIRED)]}
        and CancellationCase.objects.filter(
            reference=(case.path_parameters or {}).get("reference"),
            preferred_channel__in=flow.PHONE_CHANNELS,
        ).exists()
    ):
        return None
    return positive_data_acceptance(ctx, response, case)


#: What every response is checked with: the default checks, with the one exception above.
CHECKS = {
    "excluded_checks": [positive_data_acceptance],
    "additional_checks": [positive_data_acceptance_but_the_cases_channel],
}


@pytest.fixture
def fuzz_customer(alice: Any) -> Any:
    case, _ = services.start_case(alice)
    services.record_reason(case, "price")
    services.present_offer(case)
    return alice


@pytest.fixture
def wsgi_app(settings: Any) -> Iterator[WSGIHandler]:
    # Requests run in this thread, inside the test's transaction: Django must not close the
    # connection at the end of each request as it would in production (its test client does
    # the same).
    settings.GRACEFUL_CANCEL = gc_settings(API_WRITE_THROTTLE_RATE=None, FOLLOWUP_DISPATCH="sweep")
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


#: Every operation of the API; the first test makes sure this list and the schema agree.
OPERATIONS = [
    ("GET", "/api/cancel/reasons/"),
    ("GET", "/api/cancel/rules/"),
    ("GET", "/api/cancel/cases/"),
    ("POST", "/api/cancel/cases/"),
    ("GET", "/api/cancel/cases/{reference}/"),
    ("POST", "/api/cancel/cases/{reference}/reason/"),
    ("POST", "/api/cancel/cases/{reference}/accept-offer/"),
    ("POST", "/api/cancel/cases/{reference}/decline-offer/"),
    ("POST", "/api/cancel/cases/{reference}/confirm/"),
    ("POST", "/api/cancel/cases/{reference}/reactivate/"),
    ("POST", "/api/cancel/cases/{reference}/hear-offer/"),
    ("POST", "/api/cancel/cases/{reference}/no-offer/"),
    ("GET", "/api/cancel/analytics/summary/"),
    ("GET", "/api/cancel/withdrawal/"),
    ("POST", "/api/cancel/withdrawal/"),
]

#: Bounded and repeatable; no example database in the checkout.
FUZZ_SETTINGS = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def test_the_fuzzed_operations_are_all_of_the_schema(api_schema: Any) -> None:
    found = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


#: Operations with an input that can be made invalid (a body, a query or a header).
NEGATABLE = [op for op in OPERATIONS if op[0] == "POST" or op[1].endswith(("/cases/", "/summary/"))]


def _latest_reference(customer: Any) -> str | None:
    return (
        CancellationCase.objects.filter(customer=customer)
        .order_by("-created_at", "-pk")
        .values_list("reference", flat=True)
        .first()
    )


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [(*op, GenerationMode.POSITIVE) for op in OPERATIONS]
    + [(*op, GenerationMode.NEGATIVE) for op in NEGATABLE],
)
def test_each_operation_matches_its_schema_and_never_fails(
    api_schema: Any,
    fuzz_customer: Any,
    method: str,
    path: str,
    mode: GenerationMode,
    request: Any,
) -> None:
    operation = api_schema[path][method]
    statuses: list[int] = []
    if path.endswith("/withdrawal/"):
        # The withdrawal function exists only within a profile's withdrawal period: a German
        # subscription started today, so the fuzzed bodies reach the withdrawal itself.
        from shop.models import Subscription

        django_settings = request.getfixturevalue("settings")
        django_settings.GRACEFUL_CANCEL = gc_settings(
            API_WRITE_THROTTLE_RATE=None, FOLLOWUP_DISPATCH="sweep", COMPLIANCE_PROFILE="de"
        )
        Subscription.objects.filter(user=fuzz_customer).update(started_at=timezone.now())
    if path.endswith(("/hear-offer/", "/no-offer/")):
        # The offer question exists under us-mn, once the case is cancelled.
        django_settings = request.getfixturevalue("settings")
        django_settings.GRACEFUL_CANCEL = gc_settings(
            API_WRITE_THROTTLE_RATE=None, FOLLOWUP_DISPATCH="sweep", COMPLIANCE_PROFILE="us-mn"
        )
        CancellationCase.objects.filter(customer=fuzz_customer).update(compliance_profile="us-mn")
    if path.endswith(("/reactivate/", "/hear-offer/", "/no-offer/")):
        # Only a cancelled case can be reactivated or asked about an offer: start from one.
        services.confirm_cancellation(
            CancellationCase.objects.get(customer=fuzz_customer), effective="period_end"
        )

    @given(case=operation.as_strategy(generation_mode=mode, auth_storage=api_schema.auth))
    @FUZZ_SETTINGS
    def run(case: Any) -> None:
        reference = case.path_parameters.get("reference") if case.path_parameters else None
        # Random references only reach the 404: about half of the well-formed ones are swapped
        # for the customer's latest case, so that the flow's states are exercised as well.
        if isinstance(reference, str) and reference and "/" not in reference and len(reference) % 2:
            latest = _latest_reference(fuzz_customer)
            if latest:
                case.path_parameters["reference"] = latest
        statuses.append(case.call_and_validate(**CHECKS).status_code)

    run()
    # The run reached the API's logic, not only its refusals (analytics is staff-only: a 403).
    if mode == GenerationMode.POSITIVE and not path.endswith("/summary/"):
        assert any(200 <= code < 300 for code in statuses), statuses


def test_stateful_sequences_match_the_schema_and_never_fail(
    api_schema: Any, fuzz_customer: Any
) -> None:
    """schemathesis's stateful phase: sequences of calls along the inferred links.

    Each scenario starts from a customer with an active subscription and no case, so that the
    whole flow is reachable again; every response is checked as in the test above.
    """
    from shop.models import Subscription

    workflow = api_schema.as_state_machine()
    calls: list[tuple[str, int]] = []

    class Flow(workflow):  # type: ignore[misc,valid-type]
        def setup(self) -> None:
            # Every scenario starts from the same state, so that the same steps get the same
            # answers (Hypothesis checks that they do): no case, no remembered Idempotency-Key.
            cache.clear()
            IdempotencyKey.objects.all().delete()
            CancellationCase.objects.filter(customer=fuzz_customer).delete()
            Subscription.objects.filter(user=fuzz_customer).update(
                status="active",
                cancel_at_period_end=False,
                canceled_at=None,
                current_period_end=timezone.now() + timedelta(days=20),
                # Long past any withdrawal period (the withdrawal tests start it today).
                started_at=timezone.now() - timedelta(days=200),
            )

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            calls.append(
                (f"{case.operation.method.upper()} {case.operation.path}", response.status_code)
            )

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                additional_checks=[*(additional_checks or []), *CHECKS["additional_checks"]],
                excluded_checks=CHECKS["excluded_checks"],
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    Flow.run(
        settings=settings(
            max_examples=30,
            stateful_step_count=6,
            derandomize=True,
            # No shrinking: each step's input comes from earlier responses (new references every
            # run), so replaying a sequence to shrink it cannot draw the same data; a failure is
            # reported as found, with the calls that led to it.
            phases=[Phase.explicit, Phase.generate],
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    # The sequences went past the start: a case was created, then changed through a link.
    created = {code for name, code in calls if name == "POST /api/cancel/cases/"}
    assert created & {200, 201}, "\n".join(f"{n} x {c}" for c, n in sorted(Counter(calls).items()))
    changed = [
        name
        for name, code in calls
        if name.startswith("POST /api/cancel/cases/{reference}/") and 200 <= code < 300
    ]
    assert changed, "\n".join(f"{n} x {c}" for c, n in sorted(Counter(calls).items()))
