"""The customer's cancellation pages. Include under any prefix:

path("account/cancel/", include("django_graceful_cancel.urls"))

docs/flow.md describes each page.
"""

from django.urls import include, path

from . import (
    converters,  # noqa: F401  (registers the gc_reference and gc_token converters)
    views,
)
from .views import pauses as pause_views

app_name = "graceful_cancel"

urlpatterns = [
    path("", views.start, name="start"),
    # Signed links in follow-ups: unsubscribe, survey, reactivate (followups/urls.py).
    path("l/", include("django_graceful_cancel.followups.urls")),
    # Come back after the end (docs/returns.md): the signed link in win-back messages and on the
    # receipt page.
    path("l/comeback/<gc_token:token>/", views.comeback, name="comeback"),
    # The eu profile's no-login "cancel contracts here" page (404 under other profiles).
    path("declare/", views.declare, name="declare"),
    path("declare/not-me/<gc_token:token>/", views.declaration_dispute, name="declaration_dispute"),
    path(
        "declare/confirm/<gc_token:token>/", views.declaration_confirm, name="declaration_confirm"
    ),
    path("declare/<gc_token:token>/", views.declaration_received, name="declaration_received"),
    # The withdrawal function (CRD art. 11a), only while the withdrawal period runs.
    path("withdraw/", views.withdraw, name="withdraw"),
    path("withdraw/confirm/<gc_token:token>/", views.withdrawal_confirm, name="withdrawal_confirm"),
    path("withdraw/<gc_token:token>/", views.withdrawal_received, name="withdrawal_received"),
    # The pause reminder's signed links: resume now, extend (views/pauses.py, docs/pause.md).
    path("pause/resume/<gc_token:token>/", pause_views.pause_resume, name="pause_resume"),
    path("pause/extend/<gc_token:token>/", pause_views.pause_extend, name="pause_extend"),
    path("<gc_reference:reference>/", views.offer, name="offer"),
    path("<gc_reference:reference>/accept/", views.accept, name="accept"),
    path("<gc_reference:reference>/confirm/", views.confirm, name="confirm"),
    path("<gc_reference:reference>/done/", views.done, name="done"),
    # us-mn: "Would you like to hear an offer?" asked once cancelled (services/offer_question.py).
    path("<gc_reference:reference>/offer-question/", views.offer_question, name="offer_question"),
    path("<gc_reference:reference>/receipt.txt", views.receipt, name="receipt"),
    path("<gc_reference:reference>/saved/", views.saved, name="saved"),
    path("<gc_reference:reference>/reactivate/", views.reactivate, name="reactivate"),
]
