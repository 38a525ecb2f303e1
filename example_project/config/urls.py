from importlib.util import find_spec

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("", include("shop.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # django-graceful-cancel: the customer's pages and the REST API, under any prefix.
    path("account/cancel/", include("django_graceful_cancel.urls")),
    path("api/cancel/", include("django_graceful_cancel.api.urls")),
    # anymail's tracking webhooks (delivery status of follow-ups).
    path("anymail/", include("anymail.urls")),
]

if find_spec("stripe") is not None:
    # Stripe's subscription events (cancellations made in Stripe's own portal): docs/stripe.md.
    urlpatterns.append(
        path("billing/stripe/", include("django_graceful_cancel.backends.stripe.webhooks"))
    )
