"""The REST API. Include under any prefix:

path("api/cancel/", include("django_graceful_cancel.api.urls"))
"""

app_name = "graceful_cancel_api"

urlpatterns: list = [
    # Filled by the REST API (issue 4).
]
