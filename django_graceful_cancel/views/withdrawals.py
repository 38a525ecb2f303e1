"""The withdrawal function's pages (CRD art. 11a; docs/compliance.md, "Withdrawal function").

One page asks for the name, the contract and the address for the acknowledgement, and nothing
else (no reason, no offer), with a separate "Confirm withdrawal" button; the acknowledgement page
shows the date and time of receipt. The function exists only while the withdrawal period runs:
afterwards the page says so and points to the normal cancellation.

A signed-in customer withdraws from their own subscription at once. Where the profile needs no
login (``withdrawal_login_required=False``), anyone may send one, and the page works like the
declaration page (views/declarations.py): it answers before it looks anything up, and the
withdrawal is matched after the response has gone out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from .. import dates, services
from ..client_ip import client_ip
from ..compliance import rules_for
from ..exceptions import (
    BackendError,
    GracefulCancelError,
    InvalidInput,
    InvalidTransition,
    RateLimited,
)
from ..followups.links import InvalidLink
from ..jurisdiction import resolve_jurisdiction
from ..models import Withdrawal
from ..services.withdrawals import (
    WithdrawalWindow,
    read_confirmation_token,
    window_for,
    withdrawal_profile,
)
from .declarations import RedirectThen
from .pages import problem_page, render_page

logger = logging.getLogger("django_graceful_cancel")


class WithdrawalForm(forms.Form):
    """A signed-in customer's withdrawal: name, contract and the acknowledgement's address."""

    name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    subscription = forms.ChoiceField(label=gettext_lazy("Contract"))
    email = forms.EmailField(
        label=gettext_lazy("Email address for the acknowledgement"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["subscription"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


class PublicWithdrawalForm(forms.Form):
    """The no-login withdrawal: only what identifies the customer and the contract."""

    name = forms.CharField(
        label=gettext_lazy("Your name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    contract = forms.CharField(
        label=gettext_lazy("Contract"),
        help_text=gettext_lazy("For example the plan name, or your customer name or number."),
        max_length=300,
        required=False,
    )
    email = forms.EmailField(
        label=gettext_lazy("Email address for the acknowledgement"),
        help_text=gettext_lazy("The address of your account, if you can."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


def _field_errors(form: forms.Form, error: InvalidInput) -> None:
    for field, found in error.errors.items():
        for item in found:
            form.add_error(field if field in form.fields else None, str(item.message))


def _provider_down(request: HttpRequest) -> HttpResponse:
    return problem_page(
        request,
        _("Please try again in a few minutes"),
        _(
            "We cannot reach our billing system right now, so nothing was changed. Please try "
            "again in a few minutes."
        ),
        status=503,
    )


def _closed(request: HttpRequest, current: WithdrawalWindow | None) -> HttpResponse:
    """The function is gone: say why, and where cancelling still works (no dead end)."""
    context = {"window": current, "start_url": reverse("graceful_cancel:start")}
    return render_page(request, "withdrawal/closed.html", context)


@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest) -> HttpResponse:
    """ "Withdraw from contract here": one page, then "Confirm withdrawal"."""
    if not request.user.is_authenticated:
        rules = rules_for(withdrawal_profile(None, request))
        if not rules.withdrawal_function:
            raise Http404
        if rules.withdrawal_login_required:
            return redirect_to_login(request.get_full_path())
        return _public(request, rules.profile)
    try:
        current = window_for(request.user, request)
    except BackendError:
        return _provider_down(request)
    if not current.applies:
        raise Http404
    profile = current.profile
    if current.existing is not None and current.existing.customer_id == request.user.pk:
        return redirect("graceful_cancel:withdrawal_received", token=current.existing.access_token)
    if not current.open or current.subscription is None:
        return _closed(request, current)
    info = current.subscription
    choices = [(info.reference, info.plan or info.reference)]
    user: Any = request.user
    initial = {
        "name": user.get_full_name() if hasattr(user, "get_full_name") else "",
        "subscription": info.reference,
        "email": getattr(user, user.get_email_field_name(), "") or "",
    }
    form = WithdrawalForm(
        request.POST if request.method == "POST" else None, initial=initial, choices=choices
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            withdrawal = services.withdraw(
                request.user,
                name=data["name"],
                email=data["email"],
                subscription=data["subscription"],
                language=translation.get_language(),
                time_zone=dates.known_zone(request.POST.get("time_zone")),
                profile=profile,
                # Where the customer is, as this request shows it (billing address, else the
                # CDN's country header): recorded on the case, as start_case does.
                jurisdiction=resolve_jurisdiction(
                    request.user, request, subscription=current.subscription
                ),
                actor=request.user,
            )
        except InvalidInput as error:
            _field_errors(form, error)
        except BackendError:
            return _provider_down(request)
        except GracefulCancelError:
            # The subscription changed meanwhile (ended elsewhere): say where things stand.
            return _closed(request, None)
        else:
            return redirect("graceful_cancel:withdrawal_received", token=withdrawal.access_token)
    context = {"form": form, "window": current, "subscription": info}
    return render_page(request, "withdrawal/form.html", context, status=400 if form.errors else 200)


def _process(pk: int) -> Callable[[], None]:
    def run() -> None:
        try:
            services.process_withdrawal(pk)
        except Exception:  # the sweep retries it; the sender has their receipt already
            logger.exception("Could not process withdrawal %s", pk)

    return run


def _public(request: HttpRequest, profile: str) -> HttpResponse:
    form = PublicWithdrawalForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            withdrawal = services.receive_withdrawal(
                name=data["name"],
                email=data["email"],
                contract=data.get("contract") or "",
                language=translation.get_language(),
                time_zone=dates.known_zone(request.POST.get("time_zone")),
                client=client_ip(request),
                profile=profile,
            )
        except InvalidInput as error:
            _field_errors(form, error)
        except RateLimited:
            return problem_page(
                request,
                _("Too many requests"),
                _(
                    "We received several withdrawals from you in a short time. Please wait an "
                    "hour and send it again, or write to us: your withdrawal counts from the "
                    "moment it reaches us."
                ),
                status=429,
            )
        else:
            location = reverse(
                "graceful_cancel:withdrawal_received", kwargs={"token": withdrawal.access_token}
            )
            return RedirectThen(location, _process(withdrawal.pk))
    status = 400 if form.errors else 200
    return render_page(request, "withdrawal/public_form.html", {"form": form}, status=status)


def withdrawal_received(request: HttpRequest, token: str) -> HttpResponse:
    """The acknowledgement: what was sent and the date and time of receipt, to print.

    For a no-login withdrawal nothing here depends on whether, or to what, it was matched.
    """
    withdrawal = get_object_or_404(Withdrawal, access_token=token)
    return render_page(request, "withdrawal/received.html", {"withdrawal": withdrawal})


@require_http_methods(["GET", "POST"])
def withdrawal_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The account holder confirms a no-login withdrawal from the link sent to the account's own
    address. GET shows the button (mail scanners follow links); POST confirms."""
    try:
        withdrawal = read_confirmation_token(token)
    except InvalidLink as error:
        status = 410 if error.reason == "expired" else 400
        return render_page(request, "links/invalid.html", {"reason": error.reason}, status)
    if request.method == "POST":
        try:
            withdrawal = services.confirm_withdrawal(withdrawal)
        except InvalidTransition:
            withdrawal.refresh_from_db()  # confirmed or settled meanwhile: say so
        except BackendError:
            return _provider_down(request)
    return render_page(request, "withdrawal/confirm.html", {"withdrawal": withdrawal})
