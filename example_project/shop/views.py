from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from django_graceful_cancel.conf import app_settings
from django_graceful_cancel.exceptions import BackendError
from django_graceful_cancel.models import CancellationCase

from .models import Plan


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/home.html", {"plans": Plan.objects.order_by("price")})


@login_required
def account(request: HttpRequest) -> HttpResponse:
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
    cases = CancellationCase.objects.filter(customer=request.user).order_by("-created_at")[:5]
    return render(
        request,
        "shop/account.html",
        {"subscription": subscription, "cases": cases, "billing_down": billing_down},
    )
