"""The magazine's URLconf (its ROOT_URLCONF in the tests): its pages, then the app's."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", include(([path("account/", views.account, name="account")], "magazine"))),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("admin/", admin.site.urls),
    path("account/cancel/", include("django_graceful_cancel.urls")),
]
