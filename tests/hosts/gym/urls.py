"""The gym's URLconf (its ROOT_URLCONF in the tests): its pages, then the app's."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", include(([path("me/", views.membership, name="membership")], "gym"))),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("admin/", admin.site.urls),
    path("me/leave/", include("django_graceful_cancel.urls")),
]
