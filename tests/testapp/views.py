from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """The host's home page: any page of the site that extends its base template."""
    return render(request, "testapp/home.html")


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The host's account page: ``GRACEFUL_CANCEL["ACCOUNT_URL"]`` of the test settings."""
    subscription = request.user.subscriptions.select_related("plan").order_by("-pk").first()
    return render(request, "testapp/account.html", {"subscription": subscription})
