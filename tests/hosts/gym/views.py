from contextlib import suppress

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from django_graceful_cancel import services
from django_graceful_cancel.exceptions import GracefulCancelError
from django_graceful_cancel.models import CancellationCase

from . import billing
from .models import Membership


@login_required
def membership(request: HttpRequest) -> HttpResponse:
    found = Membership.objects.filter(member=request.user).select_related("renewal").first()
    return render(request, "gym/membership.html", {"membership": found})


@login_required
def join(request: HttpRequest) -> HttpResponse:
    """The gym's sign-up page. A former member sent here by the come-back page arrives with
    ``?case=<reference>``; once they joined, the gym tells the app the return is complete
    (``services.complete_return``, docs/returns.md), so the case and the win-back figures count
    it."""
    reference = request.GET.get("case", "")
    levels = Membership.Level.choices
    if request.method == "POST":
        level = request.POST.get("level", "")
        if level not in dict(levels):
            return render(
                request,
                "gym/join.html",
                {"levels": levels, "case": reference, "error": "Please choose a level."},
                status=400,
            )
        joined = billing.rejoin(request.user, level=level)
        # Only the signed-in member's own case; a reference that is not theirs is ignored.
        case = CancellationCase.objects.filter(reference=reference, customer=request.user).first()
        if case is not None:
            # No return started from the come-back page: a plain sign-up, nothing to complete.
            with suppress(GracefulCancelError):
                services.complete_return(case, reference=f"gym.membership:{joined.pk}")
        return redirect("gym:membership")
    return render(request, "gym/join.html", {"levels": levels, "case": reference})
