from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Membership


@login_required
def membership(request: HttpRequest) -> HttpResponse:
    found = Membership.objects.filter(member=request.user).select_related("renewal").first()
    return render(request, "gym/membership.html", {"membership": found})
