from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Subscription


@login_required
def billing(request: HttpRequest) -> HttpResponse:
    subscription = (
        Subscription.objects.filter(owner=request.user)
        .exclude(state=Subscription.State.ENDED)
        .select_related("plan", "price")
        .order_by("-pk")
        .first()
    )
    return render(request, "saas/billing.html", {"subscription": subscription})
