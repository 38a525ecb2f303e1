"""URL patterns of the signed follow-up links; included by ``django_graceful_cancel.urls`` under
``l/`` (in the ``graceful_cancel`` namespace)."""

from django.urls import path

from .. import converters  # noqa: F401  (registers the gc_token converter)
from . import views

urlpatterns = [
    path("unsubscribe/<gc_token:token>/", views.unsubscribe, name="link_unsubscribe"),
    path("survey/<gc_token:token>/", views.survey, name="link_survey"),
    path("reactivate/<gc_token:token>/", views.reactivate, name="link_reactivate"),
    path("export/<gc_token:token>/", views.export, name="link_export"),
]
