"""The customer's cancellation pages. Include under any prefix:

path("account/cancel/", include("django_graceful_cancel.urls"))

docs/flow.md describes each page.
"""

from django.urls import include, path

from . import (
    converters,  # noqa: F401  (registers the gc_reference and gc_token converters)
    views,
)

app_name = "graceful_cancel"

urlpatterns = [
    path("", views.start, name="start"),
    # Signed links in follow-ups: unsubscribe, survey, reactivate (followups/urls.py).
    path("l/", include("django_graceful_cancel.followups.urls")),
    # The eu profile's no-login "cancel contracts here" page (404 under other profiles).
    path("declare/", views.declare, name="declare"),
    path("declare/not-me/<gc_token:token>/", views.declaration_dispute, name="declaration_dispute"),
    path(
        "declare/confirm/<gc_token:token>/", views.declaration_confirm, name="declaration_confirm"
    ),
    path("declare/<gc_token:token>/", views.declaration_received, name="declaration_received"),
    path("<gc_reference:reference>/", views.offer, name="offer"),
    path("<gc_reference:reference>/accept/", views.accept, name="accept"),
    path("<gc_reference:reference>/confirm/", views.confirm, name="confirm"),
    path("<gc_reference:reference>/done/", views.done, name="done"),
    path("<gc_reference:reference>/receipt.txt", views.receipt, name="receipt"),
    path("<gc_reference:reference>/saved/", views.saved, name="saved"),
    path("<gc_reference:reference>/reactivate/", views.reactivate, name="reactivate"),
]
