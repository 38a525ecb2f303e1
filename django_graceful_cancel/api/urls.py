"""The REST API. Include under any prefix:

path("api/cancel/", include("django_graceful_cancel.api.urls"))

Routes (names in the ``graceful_cancel_api`` namespace): ``reasons/`` (reason-list), ``rules/``,
``cases/`` (case-list), ``cases/<reference>/`` (case-detail), ``cases/<reference>/reason/``,
``accept-offer/``, ``decline-offer/``, ``confirm/``, ``reactivate/`` (case-reason,
case-accept-offer, ...), ``analytics/summary/`` (analytics-summary) and ``schema/`` (schema).
"""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from . import views, withdrawals

app_name = "graceful_cancel_api"

router = SimpleRouter()
router.register("cases", views.CaseViewSet, basename="case")

urlpatterns: list = [
    path("reasons/", views.ReasonListView.as_view(), name="reason-list"),
    path("rules/", views.RulesView.as_view(), name="rules"),
    *router.urls,
    path("analytics/summary/", views.AnalyticsSummaryView.as_view(), name="analytics-summary"),
    # The withdrawal function (CRD art. 11a; api/withdrawals.py).
    path("withdrawal/", withdrawals.WithdrawalView.as_view(), name="withdrawal"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    # Last: any other path under cases/ (a reference holding an encoded "/", a typo in an
    # action) answers the API's JSON 404 rather than the site's HTML page. Limited to cases/ so
    # that a host mounting the API at its root keeps its own URLs after it.
    re_path(r"^cases/", views.NotFoundView.as_view(), name="not-found"),
]
