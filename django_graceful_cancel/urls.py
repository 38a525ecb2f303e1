"""The customer's cancellation pages. Include under any prefix:

path("account/cancel/", include("django_graceful_cancel.urls"))
"""

app_name = "graceful_cancel"

urlpatterns: list = [
    # Filled by the customer flow (issue 3).
]
