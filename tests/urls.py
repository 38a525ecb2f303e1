"""The test project's URLconf: the host's own pages, then the app mounted as a host would."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("", include("tests.testapp.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # django-graceful-cancel: the customer's pages and the REST API.
    path("account/cancel/", include("django_graceful_cancel.urls")),
    path("api/cancel/", include("django_graceful_cancel.api.urls")),
    # anymail's tracking webhooks (delivery status of follow-ups).
    path("anymail/", include("anymail.urls")),
    # Stripe's subscription events.
    path("billing/stripe/", include("django_graceful_cancel.backends.stripe.webhooks")),
]
