"""The withdrawal function in the REST API: ``GET withdrawal/`` says whether the signed-in
customer may withdraw now (and until when, with the statutory labels to show), ``POST
withdrawal/`` withdraws through the same service entry as the page (``services.withdraw``).

The same rules as the page: only the customer's own subscription, only while the withdrawal
period runs (otherwise a 409 with the rule's code), no reason accepted (an unknown field is a
400), a double submit answers the first withdrawal. The no-login withdrawal stays a page (views/withdrawals.py): it is for visitors
without an account session, which the API does not serve.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import pgettext
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from .. import dates, services
from ..exceptions import InvalidInput
from ..jurisdiction import resolve_jurisdiction
from ..models import Withdrawal
from ..services.withdrawals import window_for
from .idempotency import idempotent
from .schema import extend_schema
from .serializers import StrictSerializer
from .views import Conflict, GracefulCancelAPIView


class WithdrawSerializer(StrictSerializer):
    """What the withdrawal asks, and nothing else: no reason. Each field left out is the
    account's own (its name, its email address, its current subscription), as the page
    prefills them."""

    name = serializers.CharField(
        max_length=200, required=False, help_text="Left out: the account's name."
    )
    email = serializers.EmailField(
        required=False, help_text="For the acknowledgement; left out: the account's address."
    )
    subscription = serializers.CharField(
        max_length=255,
        required=False,
        help_text="The subscription's reference, as GET withdrawal/ gives it; left out: the "
        "customer's current subscription.",
    )
    time_zone = serializers.CharField(max_length=64, required=False, allow_blank=True)


class WithdrawalWindowSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    ends_at = serializers.DateTimeField(allow_null=True)
    ends_at_text = serializers.CharField(help_text="The last moment, with its time zone's name.")
    subscription = serializers.CharField(allow_null=True)
    plan = serializers.CharField()
    entry_label = serializers.CharField(help_text='"Withdraw from contract here", translated.')
    confirm_label = serializers.CharField(help_text='"Confirm withdrawal", translated.')
    withdrawal = serializers.CharField(
        allow_null=True, help_text="The reference of the withdrawal already received."
    )


class WithdrawalReceiptSerializer(serializers.ModelSerializer):
    received_at_text = serializers.SerializerMethodField()
    case: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="reference", read_only=True
    )

    class Meta:
        model = Withdrawal
        fields = (
            "reference",
            "status",
            "name",
            "email",
            "contract",
            "received_at",
            "received_at_text",
            "withdrawn_at",
            "case",
        )
        read_only_fields = fields

    def get_received_at_text(self, withdrawal: Withdrawal) -> str:
        return dates.format_datetime(withdrawal.received_at, withdrawal)


class WithdrawalView(GracefulCancelAPIView):
    """The signed-in customer's withdrawal function (CRD art. 11a)."""

    backend_error_actions = {"get": ("503",), "post": ("502", "503")}

    @extend_schema(
        tags=["withdrawal"],
        summary="Whether the customer may withdraw now, until when, and the labels to show",
        responses=WithdrawalWindowSerializer,
    )
    def get(self, request: Request) -> Response:
        current = window_for(request.user, request)
        info = current.subscription
        return Response(
            {
                "available": current.open,
                "ends_at": current.last_moment,
                "ends_at_text": dates.format_datetime(current.last_moment),
                "subscription": info.reference if info and current.open else None,
                "plan": info.plan if info else "",
                "entry_label": pgettext("withdrawal function", "Withdraw from contract here"),
                "confirm_label": pgettext("withdrawal function", "Confirm withdrawal"),
                "withdrawal": current.existing.reference if current.existing else None,
            }
        )

    @extend_schema(
        tags=["withdrawal"],
        summary="Withdraw from the contract (ends it at once; every payment is refunded)",
        request=WithdrawSerializer,
        responses={201: WithdrawalReceiptSerializer, 200: WithdrawalReceiptSerializer},
        description="A second withdrawal of the same subscription answers the first (200). "
        "409 when the subscription is not the customer's (`unknown_subscription`), the profile "
        "has no withdrawal function (`no_withdrawal_function`) or the withdrawal period is over "
        "(`withdrawal_period_over`).",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data: dict[str, Any] = self.validated(WithdrawSerializer, request.data)
        user: Any = request.user
        current = window_for(user, request)
        profile = current.profile
        subscription = data.get("subscription")
        if subscription is None:
            subscription = current.subscription.reference if current.subscription else ""
        mine = Withdrawal.objects.filter(customer_id=user.pk)
        existing = mine.count()
        try:
            withdrawal = services.withdraw(
                user,
                name=data.get("name") or user.get_full_name() or user.get_username(),
                email=str(data.get("email") or getattr(user, user.get_email_field_name(), "")),
                subscription=subscription,
                time_zone=dates.known_zone(data.get("time_zone")),
                profile=profile,
                # Where the customer is, as this request shows it (billing address, else the
                # CDN's country header): recorded on the case, as start_case does.
                jurisdiction=resolve_jurisdiction(user, request, subscription=current.subscription),
                actor=user,
            )
        except InvalidInput as error:
            # Which contract, and whether its period still runs, is the state of the
            # customer's account, not a typo in the body: a 409 with the rule's code.
            if set(error.errors) == {"subscription"}:
                refusal = error.errors["subscription"][0]
                raise Conflict(detail=str(refusal.message), code=refusal.code) from error
            raise
        created = mine.count() > existing
        return Response(
            WithdrawalReceiptSerializer(withdrawal).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
