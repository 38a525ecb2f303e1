"""SQL queries per request: every flow page, every API endpoint, the admin list and the
dashboard, on one database. Run at two sizes; the runner compares them.

    python benchmarks/queries.py DATABASE CASES
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import build, emit, ensure_database, setup


def customer(username: str) -> Any:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from shop.models import Plan, Subscription

    User = get_user_model()
    User.objects.filter(username=username).delete()
    user = User.objects.create_user(username, f"{username}@example.com", "x", first_name="Q")
    now = timezone.now()
    Subscription.objects.create(
        user=user,
        plan=Plan.objects.get(code="premium"),
        started_at=now - timedelta(days=400),
        current_period_end=now + timedelta(days=20),
    )
    return user


def main() -> None:
    database, cases = sys.argv[1], int(sys.argv[2])
    ensure_database(database)
    setup(database)
    info = build(cases)

    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from django_graceful_cancel.models import CancellationCase

    counts: dict[str, int] = {}

    def measure(name: str, call: Any, expect: tuple[int, ...] = (200,)) -> Any:
        with CaptureQueriesContext(connection) as queries:
            response = call()
        assert response.status_code in expect, (name, response.status_code, response.content[:300])
        counts[name] = len(queries)
        return response

    def flows() -> None:
        # --- the pages ---------------------------------------------------------------------------
        pages = Client()
        user = customer("bench-page")
        pages.force_login(user)
        start = reverse("graceful_cancel:start")
        measure("page: start (GET)", lambda: pages.get(start))
        measure(
            "page: reason (POST start)",
            lambda: pages.post(
                start, {"reason": "price", "detail": "too dear", "action": "continue"}
            ),
            (302,),
        )
        reference = CancellationCase.objects.get(customer=user, status="open").reference
        measure(
            "page: offer (GET)",
            lambda: pages.get(reverse("graceful_cancel:offer", args=[reference])),
        )
        measure(
            "page: confirm (POST)",
            lambda: pages.post(reverse("graceful_cancel:confirm", args=[reference])),
            (302,),
        )
        measure(
            "page: done (GET)", lambda: pages.get(reverse("graceful_cancel:done", args=[reference]))
        )

        # --- the API -----------------------------------------------------------------------------
        # Token authentication (one query), as the load test's clients and the baseline use.
        from rest_framework.authtoken.models import Token

        def token_client(user: Any) -> Client:
            key = Token.objects.create(user=user).key
            return Client(HTTP_AUTHORIZATION=f"Token {key}")

        api = token_client(customer("bench-api"))

        def post(name: str, url: str, body: dict, expect: tuple[int, ...] = (200,)) -> Any:
            return measure(
                name, lambda: api.post(url, body, content_type="application/json"), expect
            )

        measure("api: GET reasons/", lambda: api.get(reverse("graceful_cancel_api:reason-list")))
        created = post(
            "api: POST cases/ (start)", reverse("graceful_cancel_api:case-list"), {}, (201,)
        )
        ref = created.json()["reference"]
        post(
            "api: POST reason/",
            reverse("graceful_cancel_api:case-reason", args=[ref]),
            {"reason": "price", "detail": "too dear"},
        )
        measure(
            "api: GET cases/<ref>/",
            lambda: api.get(reverse("graceful_cancel_api:case-detail", args=[ref])),
        )
        post(
            "api: POST decline-offer/",
            reverse("graceful_cancel_api:case-decline-offer", args=[ref]),
            {},
        )
        post("api: POST confirm/", reverse("graceful_cancel_api:case-confirm", args=[ref]), {})
        post(
            "api: POST reactivate/", reverse("graceful_cancel_api:case-reactivate", args=[ref]), {}
        )
        measure("api: GET cases/", lambda: api.get(reverse("graceful_cancel_api:case-list")))
        api = token_client(customer("bench-api-accept"))
        ref2 = api.post(reverse("graceful_cancel_api:case-list"), {}, "application/json").json()[
            "reference"
        ]
        api.post(
            reverse("graceful_cancel_api:case-reason", args=[ref2]),
            {"reason": "temporary"},
            content_type="application/json",
        )
        post(
            "api: POST accept-offer/",
            reverse("graceful_cancel_api:case-accept-offer", args=[ref2]),
            {},
        )

        # The load test's flow: confirm straight after the reason, declining the offer shown.
        api = token_client(customer("bench-api-flow"))
        ref3 = api.post(reverse("graceful_cancel_api:case-list"), {}, "application/json").json()[
            "reference"
        ]
        api.post(
            reverse("graceful_cancel_api:case-reason", args=[ref3]),
            {"reason": "price"},
            content_type="application/json",
        )
        post(
            "api: POST confirm/ (declines the offer)",
            reverse("graceful_cancel_api:case-confirm", args=[ref3]),
            {},
        )

        # --- the hand-written baseline of the load test (benchmarks/baseline.py) -----------------
        token = Token.objects.create(user=customer("bench-baseline")).key
        auth = {"HTTP_AUTHORIZATION": f"Token {token}", "content_type": "application/json"}
        raw = Client()
        made = measure(
            "baseline: POST cases/ (start)",
            lambda: raw.post("/bench/baseline/cases/", {}, **auth),
            (201,),
        )
        key = made.json()["id"]
        measure(
            "baseline: POST reason/",
            lambda: raw.post(f"/bench/baseline/cases/{key}/reason/", {"reason": "price"}, **auth),
        )
        measure(
            "baseline: POST confirm/",
            lambda: raw.post(f"/bench/baseline/cases/{key}/confirm/", {}, **auth),
        )

    # Twice: the first pass warms what a running server keeps (the cached catalogue, compiled
    # templates); the counts kept are the second pass's.
    flows()
    flows()

    # --- staff -------------------------------------------------------------------------------
    staff = Client()
    staff.force_login(get_user_model().objects.get(username="admin"))
    measure(
        "api: GET analytics/summary/ (staff)",
        lambda: staff.get(reverse("graceful_cancel_api:analytics-summary")),
    )
    changelist = reverse("admin:graceful_cancel_cancellationcase_changelist")
    measure("admin: case list", lambda: staff.get(changelist))
    measure("admin: case list, open", lambda: staff.get(changelist + "?status__exact=open"))
    case = CancellationCase.objects.order_by("-priority", "-created_at").first()
    measure(
        "admin: one case",
        lambda: staff.get(reverse("admin:graceful_cancel_cancellationcase_change", args=[case.pk])),
    )
    cache.clear()
    dashboard = reverse("admin:graceful_cancel_dashboard")
    measure("admin: dashboard (computed)", lambda: staff.get(dashboard + "?refresh=1"))
    measure("admin: dashboard (cached)", lambda: staff.get(dashboard))
    emit({**info, "queries": counts})


if __name__ == "__main__":
    main()
