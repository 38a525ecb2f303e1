from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from django_graceful_cancel.choices import CaseStatus
from django_graceful_cancel.conf import app_settings
from django_graceful_cancel.exceptions import BackendError
from django_graceful_cancel.models import CancellationCase

from .models import Plan


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/home.html", {"plans": Plan.objects.order_by("price")})


def _subscription(request: HttpRequest) -> tuple[Any, bool]:
    """The customer's subscription, and whether billing could not be reached."""
    subscription = request.user.subscriptions.select_related("plan").order_by("-pk").first()
    billing_down = False
    if app_settings.raw("SUBSCRIPTION_BACKEND").endswith(".StripeSubscriptionBackend"):
        # Running on Stripe (GRACEFUL_CANCEL_BACKEND=stripe): show what Stripe says.
        from .billing import account_subscription

        try:
            subscription = account_subscription(request.user)
        except BackendError:
            # Billing unreachable: say so, and keep the page (and its cancel link) up.
            billing_down = True
    return subscription, billing_down


@login_required
def account(request: HttpRequest) -> HttpResponse:
    subscription, billing_down = _subscription(request)
    cases = CancellationCase.objects.filter(customer=request.user).order_by("-created_at")[:5]
    return render(
        request,
        "shop/account.html",
        {"subscription": subscription, "cases": cases, "billing_down": billing_down},
    )


@login_required
@ensure_csrf_cookie
def account_spa(request: HttpRequest) -> HttpResponse:
    """The account page of a single-page site: the cancellation flow runs in place, in the
    drop-in web component <graceful-cancel-flow> (docs/web-component.md), which calls the REST
    API with the session and the CSRF cookie this view makes sure of."""
    subscription, billing_down = _subscription(request)
    # A cancellation that can still be undone: the component opens on its receipt.
    latest = (
        CancellationCase.objects.filter(customer=request.user, status=CaseStatus.CANCELLED)
        .order_by("-cancelled_at")
        .first()
    )
    return render(
        request,
        "shop/account_spa.html",
        {
            "subscription": subscription,
            "billing_down": billing_down,
            "reactivatable": latest.reference if latest and latest.can_reactivate else "",
        },
    )
