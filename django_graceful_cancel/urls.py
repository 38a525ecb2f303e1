"""The customer's cancellation pages. Include under any prefix:

path("account/cancel/", include("django_graceful_cancel.urls"))

docs/flow.md describes each page.
"""

from django.urls import include, path

from . import views

app_name = "graceful_cancel"

urlpatterns = [
    path("", views.start, name="start"),
    # Signed links in follow-ups: unsubscribe, survey, reactivate (followups/urls.py).
    path("l/", include("django_graceful_cancel.followups.urls")),
    # The eu profile's no-login "cancel contracts here" page (404 under other profiles).
    path("declare/", views.declare, name="declare"),
    path("declare/not-me/<str:token>/", views.declaration_dispute, name="declaration_dispute"),
    path("declare/<str:token>/", views.declaration_received, name="declaration_received"),
    path("<str:reference>/", views.offer, name="offer"),
    path("<str:reference>/accept/", views.accept, name="accept"),
    path("<str:reference>/confirm/", views.confirm, name="confirm"),
    path("<str:reference>/done/", views.done, name="done"),
    path("<str:reference>/receipt.txt", views.receipt, name="receipt"),
    path("<str:reference>/saved/", views.saved, name="saved"),
    path("<str:reference>/reactivate/", views.reactivate, name="reactivate"),
]
