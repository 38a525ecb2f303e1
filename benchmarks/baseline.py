"""The baseline of the API load test: a minimal DRF API doing the same database writes as the
app's start / reason / confirm, by hand, with no service layer, no policy, no serializers.

Same authentication (token), same JSON parsing and rendering, same transactions and row lock,
same rows written: the case and its STARTED event; the reason, the REASON_RECORDED event, the
offer presentation and its event; the status change, the declined offer, the CANCELLED event,
the follow-up rows, the host subscription update and the PROVIDER_SYNCED event.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.urls import path
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from django_graceful_cancel.models import (
    CancellationCase,
    CaseEvent,
    FollowUp,
    OfferPresentation,
    Reason,
)
from django_graceful_cancel.models.cases import new_reference
from shop.models import Subscription

STAGES = [("confirmation", 0), ("thank_you", 3), ("survey", 7), ("winback", 30)]


class Base(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]


def event(case_id: int, kind: str, user: Any, data: dict | None = None) -> CaseEvent:
    return CaseEvent(
        case_id=case_id, kind=kind, actor=user, actor_label="customer", data=data or {}
    )


class Start(Base):
    def post(self, request: Any) -> Response:
        sub = Subscription.objects.select_related("plan").filter(user=request.user).first()
        now = timezone.now()
        with transaction.atomic():
            case = CancellationCase.objects.create(
                reference=new_reference(),
                customer=request.user,
                subscription_ref=f"shop.subscription:{sub.pk}",
                plan=sub.plan.name,
                plan_code=sub.plan.code,
                price=sub.plan.price,
                currency=sub.plan.currency,
                period_end=sub.current_period_end,
                created_at=now,
            )
            CaseEvent.objects.bulk_create([event(case.pk, "started", request.user)])
        return Response({"id": case.pk, "reference": case.reference, "status": case.status}, 201)


class RecordReason(Base):
    def post(self, request: Any, pk: int) -> Response:
        reason = Reason.objects.get(slug=request.data["reason"])
        with transaction.atomic():
            case = CancellationCase.objects.select_for_update().get(pk=pk, customer=request.user)
            case.reason = reason
            case.reason_detail = request.data.get("detail", "")[:5000]
            case.save(update_fields=["reason", "reason_detail", "updated_at"])
            offer = reason.offers.filter(is_active=True).order_by("order", "pk").first()
            events = [event(pk, "reason_recorded", request.user, {"reason": reason.slug})]
            if offer is not None:
                OfferPresentation.objects.create(case=case, offer=offer, customer=request.user)
                events.append(event(pk, "offer_presented", request.user, {"offer": offer.slug}))
            CaseEvent.objects.bulk_create(events)
        return Response({"id": pk, "reason": reason.slug, "offer": offer and offer.slug})


class Confirm(Base):
    def post(self, request: Any, pk: int) -> Response:
        now = timezone.now()
        with transaction.atomic():
            case = CancellationCase.objects.select_for_update().get(pk=pk, customer=request.user)
            if case.status != "open":
                return Response({"code": "case_not_open"}, 409)
            CancellationCase.objects.filter(pk=pk).update(
                status="cancelled",
                cancelled_at=now,
                closed_at=now,
                effective_at=case.period_end,
                provider_sync="synced",
                updated_at=now,
            )
            OfferPresentation.objects.filter(case_id=pk, outcome="presented").update(
                outcome="declined", decided_at=now
            )
            FollowUp.objects.bulk_create(
                FollowUp(
                    case_id=pk,
                    customer=request.user,
                    stage=stage,
                    template=stage,
                    channel="email",
                    due_at=now + timedelta(days=days),
                )
                for stage, days in STAGES
            )
            Subscription.objects.filter(pk=int(case.subscription_ref.rsplit(":", 1)[1])).update(
                cancel_at_period_end=True, canceled_at=now
            )
            CaseEvent.objects.bulk_create(
                [
                    event(pk, "cancelled", request.user),
                    event(pk, "provider_synced", request.user),
                ]
            )
        return Response({"id": pk, "status": "cancelled"})


urlpatterns = [
    path("cases/", Start.as_view()),
    path("cases/<int:pk>/reason/", RecordReason.as_view()),
    path("cases/<int:pk>/confirm/", Confirm.as_view()),
]
