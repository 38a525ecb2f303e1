"""The customer's cancellation pages (docs/flow.md).

Every page calls the service layer for any change (``services.flow``: one entry per step, the
same the API calls) and maps its domain errors to a clear page:
never a 500, never a second cancellation. Cases are looked up by reference *and* customer, so a
tampered reference or someone else's case is a 404. A GET on a step that only accepts POST sends
the customer to the page that fits the case's current state.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import dates, services
from ..backends import get_backend
from ..backends.base import SubscriptionInfo
from ..choices import CaseStatus, OfferOutcome, WithdrawalStatus
from ..compliance import ComplianceRules, rules_for
from ..exceptions import (
    BackendError,
    InvalidTransition,
    NoActiveSubscription,
    OfferNotApplicable,
)
from ..forms import ReasonForm
from ..jurisdiction import Jurisdiction, profile_for, resolve_jurisdiction
from ..models import CancellationCase, OfferPresentation, Withdrawal
from ..rendering import render_message
from ..services import evidence, flow, fulfilment, questions
from ..services.cases import flow_message_context
from .pages import problem_page, render_page

#: The page that shows a case in each status.
STATUS_PAGES: dict[str, str] = {
    CaseStatus.OPEN: "graceful_cancel:offer",
    CaseStatus.CANCELLED: "graceful_cancel:done",
    CaseStatus.SAVED: "graceful_cancel:saved",
    CaseStatus.REACTIVATED: "graceful_cancel:reactivate",
}


# --- helpers -----------------------------------------------------------------------------------


def _own_case(request: HttpRequest, reference: str) -> CancellationCase:
    return get_object_or_404(
        CancellationCase.objects.select_related("reason"),
        reference=reference,
        customer=request.user,
    )


def _page_for(case: CancellationCase) -> HttpResponse:
    if case.status == CaseStatus.WITHDRAWN:
        # A withdrawal is not a cancellation: its page is the acknowledgement (date and time of
        # receipt, with the zone), never "nothing to cancel".
        withdrawal = _withdrawal_of(case)
        if withdrawal is not None:
            return redirect(withdrawal.acknowledgement_path)
    name = STATUS_PAGES.get(case.status)
    if name is None:  # abandoned: the request expired, start again
        return redirect("graceful_cancel:start")
    return redirect(name, reference=case.reference)


def expected_effective_at(period_end: datetime | None, mode: str | None = None) -> datetime:
    """When a cancellation confirmed now would take effect (what confirm_cancellation decides)."""
    return services.effective_for(period_end, mode)[1]


def _latest_cancelled(request: HttpRequest) -> CancellationCase | None:
    return (
        CancellationCase.objects.filter(customer_id=request.user.pk, status=CaseStatus.CANCELLED)
        .order_by("-cancelled_at")
        .first()
    )


def _withdrawal_of(case: CancellationCase) -> Withdrawal | None:
    withdrawal = Withdrawal.objects.filter(case=case).first()
    return withdrawal if withdrawal is not None and withdrawal.acknowledgement_path else None


def _latest_withdrawal(request: HttpRequest) -> Withdrawal | None:
    return (
        Withdrawal.objects.filter(customer_id=request.user.pk, status=WithdrawalStatus.WITHDRAWN)
        .order_by("-received_at")
        .first()
    )


def _latest_receipt_or(request: HttpRequest, title: str, message: str) -> HttpResponse:
    """A customer with nothing (more) to cancel sees their latest receipt (a cancellation's, or
    a withdrawal's acknowledgement), or else why."""
    latest = _latest_cancelled(request)
    withdrawal = _latest_withdrawal(request)
    if (
        withdrawal is not None
        and withdrawal.acknowledgement_path
        and (
            latest is None
            or latest.cancelled_at is None
            or withdrawal.received_at > latest.cancelled_at
        )
    ):
        return redirect(withdrawal.acknowledgement_path)
    if latest is not None:
        return redirect("graceful_cancel:done", reference=latest.reference)
    return problem_page(request, title, message, status=200)


def _already_cancelled(request: HttpRequest) -> HttpResponse:
    return _latest_receipt_or(
        request,
        _("Your subscription is already cancelled"),
        _("Your subscription is already set to end. There is nothing more to do."),
    )


def _nothing_to_cancel(request: HttpRequest) -> HttpResponse:
    return _latest_receipt_or(
        request, _("Nothing to cancel"), _("You have no active subscription to cancel.")
    )


def _provider_down(request: HttpRequest) -> HttpResponse:
    return problem_page(
        request,
        _("Please try again in a few minutes"),
        _(
            "We cannot reach our billing system right now, so we cannot show your subscription. "
            "Nothing was changed. Please try again in a few minutes."
        ),
        status=503,
    )


# --- the flow ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """Step 1: why are you leaving (optional) and a "Cancel my subscription" button that works
    without choosing anything.

    The customer's jurisdiction (billing address, the CDN's country header, the site's default:
    ``jurisdiction.resolve_jurisdiction``) chooses the profile whose rules the page follows and
    which the case records: under ``de`` this is the confirmation page of the "Verträge hier
    kündigen" button, with its "jetzt kündigen" button.
    """
    try:
        info = get_backend().get_active_subscription(request.user)
    except BackendError:
        return _provider_down(request)
    if info is None or not info.is_active:
        return _nothing_to_cancel(request)
    if info.cancel_at_period_end:
        return _already_cancelled(request)
    where = resolve_jurisdiction(request.user, request, subscription=info)
    rules = rules_for(profile_for(where))
    action = request.POST.get("action", "continue") if request.method == "POST" else ""
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if action == "cancel" or not rules.survey_first:
            return _start_and_cancel(request, form, where, info)
        if form.is_valid():
            return _start_and_continue(request, form, where, info)
    effective_at = expected_effective_at(info.current_period_end)
    context = {
        "form": form,
        "subscription": info,
        "effective_at": effective_at,
        "ends_later": dates.is_after_today(effective_at),
        "rules": rules,
    }
    return render_page(request, "start.html", context, status=400 if form.errors else 200)


def _start(
    request: HttpRequest, where: Jurisdiction | None, info: SubscriptionInfo
) -> CancellationCase | HttpResponse:
    try:
        case, _created = flow.start_case(
            request.user,
            language=translation.get_language(),
            # The browser's zone (flow.js fills it in), so dates read right for the customer.
            time_zone=dates.known_zone(request.POST.get("time_zone")),
            jurisdiction=where,
            actor=request.user,
            # Read once for the page, so the provider is not asked twice.
            subscription=info,
        )
    except NoActiveSubscription:
        return _nothing_to_cancel(request)
    except BackendError:
        return _provider_down(request)
    except InvalidTransition as error:
        if error.code == "already_cancelled":
            return _already_cancelled(request)
        return problem_page(request, _("Nothing to cancel"), str(error.message), status=409)
    return case


def _start_and_cancel(
    request: HttpRequest, form: ReasonForm, where: Jurisdiction | None, info: SubscriptionInfo
) -> HttpResponse:
    started = _start(request, where, info)
    if isinstance(started, HttpResponse):
        return started
    case = started
    try:
        # Valid optional answers are kept; a bad one never blocks the cancellation.
        case = flow.cancel_now(case, form.lenient_answer(), actor=request.user)
    except InvalidTransition:
        case.refresh_from_db()
        return _page_for(case)
    return redirect("graceful_cancel:done", reference=case.reference)


def _start_and_continue(
    request: HttpRequest, form: ReasonForm, where: Jurisdiction | None, info: SubscriptionInfo
) -> HttpResponse:
    started = _start(request, where, info)
    if isinstance(started, HttpResponse):
        return started
    case = started
    assert form.answer is not None  # the form is valid
    try:
        flow.submit_reason(case, form.answer, actor=request.user)
    except InvalidTransition:
        case.refresh_from_db()
        return _page_for(case)
    return redirect("graceful_cancel:offer", reference=case.reference)


def _presentation(case: CancellationCase) -> OfferPresentation | None:
    return OfferPresentation.objects.filter(case=case).select_related("offer").first()


def _offer_page(
    request: HttpRequest,
    case: CancellationCase,
    *,
    error: str = "",
    status: int = 200,
    answer_form: ReasonForm | None = None,
    offer_unavailable: bool = False,
) -> HttpResponse:
    presentation = _presentation(case)
    pending = (
        presentation if presentation and presentation.outcome == OfferOutcome.PRESENTED else None
    )
    when = flow_message_context(case)
    message = render_message(
        case,
        "flow_message",
        channel="page",
        language=translation.get_language(),
        # An offer that turned out not to apply is no longer mentioned: only the way out is left.
        extra_context={
            "offer": pending.offer if pending and not offer_unavailable else None,
            **when,
        },
    )
    question = case.reason.localized_follow_up_question if case.reason else ""
    # The reason's structured follow-up questions, on this screen only (services/questions.py):
    # no query when the reason has none or the profile forbids them, one otherwise.
    asked = questions.shown_questions(
        case,
        posted=answer_form.data if answer_form is not None else None,
        errors=answer_form.service_errors if answer_form is not None else None,
    )
    context = {
        "case": case,
        "presentation": pending,
        "offer": pending.offer if pending else None,
        "message": mark_safe(message.text),
        "effective_at": when["effective_at"],
        "error": error,
        # Who applies the offer when a person does (offer.html says so before the answer), and
        # whether it turned out it cannot be applied at all (then only the way out is shown).
        "promise": fulfilment.promise_for(pending) if pending else None,
        "offer_unavailable": offer_unavailable,
        # The reason's follow-up question ("What price would feel fair to you?"), asked here
        # as the API's clients ask it (GET reasons/): optional, answered in the case's words.
        "question": question,
        "questions": asked,
        "answer_form": answer_form,
        "answer": answer_form["detail"].value() if answer_form else case.reason_detail,
        "answered": request.GET.get("answered") == "1",
        "answer_max_length": flow.DETAIL_MAX_LENGTH,
        "rules": _case_rules(case),
    }
    # The evidence record keeps the message and offer as the customer saw them.
    evidence.page_shown(case, "offer", request, shown=message.text)
    return render_page(request, "offer.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def offer(request: HttpRequest, reference: str) -> HttpResponse:
    """Step 2: a message written for the reason and, where the policy gives one, one offer.

    A POST answers the reason's follow-up question (optional) through the reason step's own
    service entry (``flow.check_reason`` and ``flow.submit_reason``, as ``POST
    cases/{reference}/reason/`` does): the answer becomes the case's words, everything else the
    customer said stays as it was, and the offer already shown stays the only one.
    """
    case = _own_case(request, reference)
    if case.status != CaseStatus.OPEN:
        return _page_for(case)
    if request.method == "POST":
        return _answer_question(request, case)
    return _offer_page(request, case)


def _answer_question(request: HttpRequest, case: CancellationCase) -> HttpResponse:
    asked = questions.questions_for(case.reason, case.compliance_profile)
    form = ReasonForm(
        answers=questions.posted_answers(asked, request.POST) if asked else None,
        data={
            "reason": case.reason.slug if case.reason else "",
            "detail": request.POST.get("detail", ""),
            "preferred_channel": case.preferred_channel,
            "contact_phone": case.contact_phone,
            **({"contact_consent": "on"} if case.contact_consent else {}),
            # Shown again as sent when an answer breaks a rule.
            **{k: v for k, v in request.POST.items() if k.startswith(questions.FIELD_PREFIX)},
        },
    )
    if not form.is_valid() or form.answer is None:
        return _offer_page(request, case, answer_form=form, status=400)
    try:
        flow.submit_reason(case, form.answer, actor=request.user)
    except InvalidTransition:
        case.refresh_from_db()
        return _page_for(case)
    url = reverse("graceful_cancel:offer", kwargs={"reference": case.reference})
    return redirect(f"{url}?answered=1#gc-question")


@login_required
@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, reference: str) -> HttpResponse:
    case = _own_case(request, reference)
    if request.method != "POST":
        return _page_for(case)
    after_confirmation = case.status == CaseStatus.CANCELLED
    try:
        # A cancelled case (us-mn: the offer was heard on request) is reactivated with it.
        flow.accept_offer(case, actor=request.user)
    except InvalidTransition:
        case.refresh_from_db()
        return _page_for(case)
    except BackendError as error:
        case.refresh_from_db()
        if after_confirmation:
            return _done_page(
                request,
                case,
                error=str(OfferNotApplicable.default_message)
                if not error.transient
                else _("We could not apply the offer just now, and nothing was changed."),
                status=409 if not error.transient else 503,
            )
        if not error.transient:
            # Trying again cannot help (the plan it names is gone, the site refused it): say so
            # and take the offer away; the way out stays where it was.
            return _offer_page(
                request,
                case,
                error=str(OfferNotApplicable.default_message),
                status=409,
                offer_unavailable=True,
            )
        return _offer_page(
            request,
            case,
            error=_(
                "We could not apply the offer just now, and nothing was changed. You can try "
                "again, or cancel."
            ),
            status=503,
        )
    if after_confirmation:
        return redirect("graceful_cancel:reactivate", reference=case.reference)
    return redirect("graceful_cancel:saved", reference=case.reference)


@login_required
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, reference: str) -> HttpResponse:
    """Decline-and-cancel (or cancel with no offer shown). A second submit shows the receipt."""
    case = _own_case(request, reference)
    if request.method != "POST":
        return _page_for(case)
    try:
        # The service returns the case as it left it: no need to read it again (issue 19).
        case = flow.confirm_cancellation(case, actor=request.user)
    except InvalidTransition:
        # Already decided (a double submit): show where the case is.
        case.refresh_from_db()
    return _page_for(case)


@login_required
def done(request: HttpRequest, reference: str) -> HttpResponse:
    """Step 3: the confirmation, a receipt to print or download, and one-click reactivation."""
    case = _own_case(request, reference)
    if case.status != CaseStatus.CANCELLED:
        return _page_for(case)
    evidence.page_shown(case, "done", request)
    return _done_page(request, case)


def _done_page(
    request: HttpRequest, case: CancellationCase, *, error: str = "", status: int = 200
) -> HttpResponse:
    access_ended = case.effective_at is not None and case.effective_at <= timezone.now()
    presentation = _presentation(case)
    pending = (
        presentation if presentation and presentation.outcome == OfferOutcome.PRESENTED else None
    )
    context = {
        "case": case,
        "access_ended": access_ended,
        "rules": _case_rules(case),
        # us-mn: once cancelled, the customer may be asked whether they want to hear an offer;
        # the offer itself only after a "yes"; after a "no, thanks" it is not asked again
        # (services/offer_question.py).
        "offer_question": pending is None and flow.offer_question_open(case),
        "presentation": pending if case.can_reactivate else None,
        "offer": pending.offer if pending and case.can_reactivate else None,
        "promise": fulfilment.promise_for(pending) if pending else None,
        "error": error,
    }
    return render_page(request, "done.html", context, status=status)


def _case_rules(case: CancellationCase) -> ComplianceRules:
    return rules_for(case.compliance_profile)


@login_required
@require_http_methods(["GET", "POST"])
def offer_question(request: HttpRequest, reference: str) -> HttpResponse:
    """The answer to "Would you like to hear an offer?" asked once cancelled (us-mn).

    "yes" presents the one offer (``flow.hear_offer``); "no" changes nothing but is recorded
    (``flow.decline_offer_question``) and the question is not asked again; "decline" declines the offer heard (``flow.decline_offer``). Each goes back
    to the confirmation page; a GET never changes anything.
    """
    case = _own_case(request, reference)
    if request.method != "POST" or case.status != CaseStatus.CANCELLED:
        return _page_for(case)
    answer = request.POST.get("answer", "")
    if answer == "yes":
        with contextlib.suppress(InvalidTransition):
            flow.hear_offer(case, actor=request.user)
    elif answer == "decline":
        with contextlib.suppress(InvalidTransition):
            flow.decline_offer(case, actor=request.user)
    elif answer == "no":
        # Recorded (timeline, signal, evidence record); nothing else changes.
        with contextlib.suppress(InvalidTransition):
            flow.decline_offer_question(case, actor=request.user)
    url = reverse("graceful_cancel:done", kwargs={"reference": case.reference})
    return redirect(f"{url}#gc-after")


@login_required
def receipt(request: HttpRequest, reference: str) -> HttpResponse:
    """The confirmation as a text file: the same text as the confirmation email."""
    case = _own_case(request, reference)
    if case.status not in (CaseStatus.CANCELLED, CaseStatus.REACTIVATED):
        raise Http404
    rendered = render_message(case, "confirmation", channel="email")
    response = HttpResponse(
        f"{rendered.subject}\n\n{rendered.text}\n", content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{case.reference}.txt"'
    return response


@login_required
def saved(request: HttpRequest, reference: str) -> HttpResponse:
    """The customer took the offer: what it does, and from when."""
    case = _own_case(request, reference)
    if case.status != CaseStatus.SAVED:
        return _page_for(case)
    presentation = _presentation(case)
    evidence.page_shown(case, "saved", request)
    return render_page(
        request,
        "saved.html",
        {
            "case": case,
            "presentation": presentation,
            "offer": presentation.offer if presentation else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def reactivate(request: HttpRequest, reference: str) -> HttpResponse:
    """Undo a cancellation before it takes effect: one button (GET never changes anything)."""
    case = _own_case(request, reference)
    if case.status not in (CaseStatus.CANCELLED, CaseStatus.REACTIVATED):
        return _page_for(case)
    if request.method == "POST":
        if case.status == CaseStatus.CANCELLED:
            # Window closed or a double click: the page says which.
            with contextlib.suppress(InvalidTransition):
                flow.reactivate(case, actor=request.user)
        return redirect("graceful_cancel:reactivate", reference=case.reference)
    presentation = _presentation(case) if case.status == CaseStatus.REACTIVATED else None
    if presentation is not None and presentation.outcome == OfferOutcome.ACCEPTED:
        # Back with the offer heard after the confirmation (us-mn): say what the offer does and
        # who applies it, as the saved page does, never just "nothing else changes".
        evidence.page_shown(case, "saved", request)
        context = {"case": case, "presentation": presentation, "offer": presentation.offer}
        return render_page(request, "saved.html", context)
    evidence.page_shown(case, "reactivate", request)
    return render_page(request, "reactivate.html", {"case": case})
