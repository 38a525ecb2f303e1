from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Subscription


@login_required
def account(request: HttpRequest) -> HttpResponse:
    subscription = Subscription.objects.filter(customer=request.user).select_related("plan").first()
    return render(request, "magazine/account.html", {"subscription": subscription})
