"""URL patterns of the signed follow-up links; included by ``django_graceful_cancel.urls`` under
``l/`` (in the ``graceful_cancel`` namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="link_unsubscribe"),
    path("survey/<str:token>/", views.survey, name="link_survey"),
    path("reactivate/<str:token>/", views.reactivate, name="link_reactivate"),
]
