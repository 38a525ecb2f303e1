"""The gym's URLconf (its ROOT_URLCONF in the tests): its pages, then the app's."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

#: The gym's own pages: the membership page (with the cancel link) and its sign-up page, where a
#: former member comes back (RESUBSCRIBE_URL points here in tests/hosts/test_returns_v02.py).
gym_pages = [
    path("me/", views.membership, name="membership"),
    path("join/", views.join, name="join"),
]

urlpatterns = [
    path("", include((gym_pages, "gym"))),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("admin/", admin.site.urls),
    path("me/leave/", include("django_graceful_cancel.urls")),
]
