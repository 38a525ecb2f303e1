"""URL patterns of the signed follow-up links; included by ``django_graceful_cancel.urls``."""

from django.urls import path

from . import link_views

urlpatterns = [
    path("unsubscribe/<str:token>/", link_views.unsubscribe, name="link_unsubscribe"),
    path("survey/<str:token>/", link_views.survey, name="link_survey"),
    path("reactivate/<str:token>/", link_views.reactivate, name="link_reactivate"),
]
