"""The REST API's views. They parse input, call the service layer and map its errors.

Each customer step calls the same service entry as the pages (``services.flow``).

* Domain refusals (``InvalidTransition``, ``NoActiveSubscription``) are 409 with
  ``{"code": ..., "detail": ...}``; input the service refuses (``InvalidInput``, an unknown
  reason) is a 400 field error; a failing subscription provider is 503 (transient) or 502
  (refused), never a 500.
* Every other error has the same ``{"code", "detail"}`` body; field errors keep DRF's
  ``{"field": ["message"]}`` shape.
* Permissions, parsers, filters and pagination are set here, never inherited from the host's
  ``REST_FRAMEWORK`` defaults (which may be ``AllowAny``); authentication and renderers follow the
  host's settings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django.db import models
from django.db.models import QuerySet
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import BaseFilterBackend
from rest_framework.generics import ListAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from .. import __version__, analytics
from ..converters import REFERENCE_PATTERN
from ..exceptions import (
    BackendError,
    GracefulCancelError,
    InvalidInput,
    OfferNotApplicable,
    UnknownReason,
)
from ..jurisdiction import resolve_jurisdiction, rules_for_request
from ..models import CancellationCase, Reason
from ..services import flow, revenue
from .idempotency import idempotent
from .parsers import JSONParser
from .permissions import CanViewAllCases, IsCustomer, can_view_all_cases
from .schema import (
    HAS_SPECTACULAR,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    get_schema_instance,
)
from .serializers import (
    CaseFilterSerializer,
    CaseSerializer,
    CaseSummarySerializer,
    ConfirmSerializer,
    EmptySerializer,
    ReasonSerializer,
    RecordReasonSerializer,
    RulesSerializer,
    StartCaseSerializer,
    SummaryQuerySerializer,
    SummarySerializer,
    input_errors,
    rules_data,
)
from .throttling import WriteRateThrottle

if TYPE_CHECKING:
    from rest_framework.generics import BaseFilterProtocol

logger = logging.getLogger("django_graceful_cancel")


# --- errors ------------------------------------------------------------------------------------


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This case can no longer be changed that way.")
    default_code = "conflict"


class ProviderUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = BackendError.default_message
    default_code = "backend_error"


class ProviderRefused(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = BackendError.default_message
    default_code = "backend_error"


def as_api_exception(exc: BaseException) -> BaseException:
    """The API error for a domain error; anything else is returned unchanged."""
    if isinstance(exc, InvalidInput):
        return input_errors(exc)
    if isinstance(exc, UnknownReason):
        return exceptions.ValidationError(
            {"reason": [exceptions.ErrorDetail(str(exc.message), code=exc.code)]}
        )
    if isinstance(exc, BackendError):
        # The provider's own message may be technical or internal: log it, show ours.
        logger.warning("Subscription backend error in the API: %s (%s)", exc, exc.code)
        error = ProviderUnavailable if exc.transient else ProviderRefused
        if isinstance(exc, OfferNotApplicable) or exc.code == OfferNotApplicable.code:
            # Ours to word: the offer cannot be applied, and retrying will not change that.
            return error(detail=OfferNotApplicable.default_message, code=OfferNotApplicable.code)
        return error(code=exc.code)
    if isinstance(exc, GracefulCancelError):
        # InvalidTransition, NoActiveSubscription and any future refusal of the domain.
        return Conflict(detail=str(exc.message), code=exc.code)
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler with one body for every non-field error: ``{"code", "detail"}``."""
    exc = as_api_exception(exc)  # type: ignore[assignment]
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        if not isinstance(response.data, dict):
            response.data = {api_settings.NON_FIELD_ERRORS_KEY: response.data}
        return response
    detail = response.data.get("detail") if isinstance(response.data, dict) else response.data
    response.data = {
        "code": str(getattr(detail, "code", None) or "error"),
        "detail": str(detail),
    }
    return response


# --- base --------------------------------------------------------------------------------------

#: ``_respond`` was not told the case's offer presentation.
_UNKNOWN = object()


class CasePagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        # Documented (with their limits) by CaseFilterSerializer, which also validates them.
        return []


class GracefulCancelAPIView(APIView):
    """What every view of the API shares; nothing here comes from the host's DRF defaults
    except authentication, renderers and the host's own throttles."""

    permission_classes = [IsCustomer]
    parser_classes = [JSONParser]
    filter_backends: Sequence[type[BaseFilterBackend | BaseFilterProtocol[Any]]] = []
    schema = get_schema_instance()
    #: Query parameters validated per action (read by api/schema.py to document the 400).
    query_serializer_classes: dict[str, type] = {}
    #: Actions that reach the subscription provider, which may fail with 502/503.
    backend_error_actions: dict[str, tuple[str, ...]] = {}

    def get_exception_handler(self) -> Any:
        return exception_handler

    def get_throttles(self) -> list[Any]:
        # Read at call time (not APIView.throttle_classes, fixed at import): override_settings.
        # api_settings imports the dotted paths; the stubs type the raw setting (strings).
        host_throttles = cast("Sequence[type[BaseThrottle]]", api_settings.DEFAULT_THROTTLE_CLASSES)
        return [*(throttle() for throttle in host_throttles), WriteRateThrottle()]

    def validated(self, serializer_class: type, data: Any, **context: Any) -> dict[str, Any]:
        serializer = serializer_class(
            data=data, context={"request": self.request, "view": self, **context}
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


# --- catalogue ---------------------------------------------------------------------------------


@extend_schema(tags=["catalogue"], summary="The active reasons, in the request's language")
class ReasonListView(GracefulCancelAPIView, ListAPIView):
    """The reasons a customer can pick, with labels and questions in the request's language."""

    serializer_class = ReasonSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet:
        return Reason.objects.filter(is_active=True).order_by("order", "slug")


@extend_schema(
    tags=["catalogue"],
    summary="The compliance rules a new case follows",
    responses=RulesSerializer,
)
class RulesView(GracefulCancelAPIView):
    """What the first step may show before any case exists (the start page reads the same):
    a case carries the rules it started under in its own ``rules``."""

    def get(self, request: Request) -> Response:
        # The customer's own profile (jurisdiction.py: billing address, the CDN's country
        # header, the site's default), as the first page would show it.
        return Response(rules_data(rules_for_request(request).profile))


# --- cases -------------------------------------------------------------------------------------

_CASE_RESPONSE = {200: CaseSerializer}


@extend_schema_view(
    list=extend_schema(
        tags=["cases"],
        summary="Your cases (staff with the view permission: everybody's), newest first",
        parameters=[CaseFilterSerializer],
        responses=CaseSummarySerializer(many=True),
    ),
    retrieve=extend_schema(tags=["cases"], summary="One case", responses=_CASE_RESPONSE),
    create=extend_schema(
        tags=["cases"],
        summary="Start a case for your active subscription, or return the open one",
        request=StartCaseSerializer,
        responses={
            201: OpenApiResponse(CaseSerializer, description=str(_("A new case.")))
            if HAS_SPECTACULAR
            else CaseSerializer,
            200: OpenApiResponse(CaseSerializer, description=str(_("The open case.")))
            if HAS_SPECTACULAR
            else CaseSerializer,
        },
    ),
    reason=extend_schema(
        tags=["cases"],
        summary="Record the answer to the reason step; returns the message and the offer",
        request=RecordReasonSerializer,
        responses=_CASE_RESPONSE,
    ),
    accept_offer=extend_schema(
        tags=["cases"],
        summary="Accept the offer shown; the case is saved (once cancelled, under us-mn: the "
        "subscription is reactivated with it)",
        request=EmptySerializer,
        responses=_CASE_RESPONSE,
    ),
    decline_offer=extend_schema(
        tags=["cases"],
        summary="Decline the offer shown; the case stays open",
        request=EmptySerializer,
        responses=_CASE_RESPONSE,
    ),
    confirm=extend_schema(
        tags=["cases"],
        summary="Confirm the cancellation",
        request=ConfirmSerializer,
        responses=_CASE_RESPONSE,
    ),
    reactivate=extend_schema(
        tags=["cases"],
        summary="Undo a cancellation that has not taken effect yet",
        request=EmptySerializer,
        responses=_CASE_RESPONSE,
    ),
    hear_offer=extend_schema(
        tags=["cases"],
        summary="Once cancelled, where rules.offer_after_confirm (us-mn): the customer said yes "
        "to hearing one offer; present it",
        request=EmptySerializer,
        responses=_CASE_RESPONSE,
    ),
    no_offer=extend_schema(
        tags=["cases"],
        summary="Once cancelled, where rules.offer_after_confirm (us-mn): the customer said no, "
        "thanks, to hearing an offer; recorded, nothing else changes",
        request=EmptySerializer,
        responses=_CASE_RESPONSE,
    ),
)
class CaseViewSet(GracefulCancelAPIView, viewsets.GenericViewSet):
    """Cancellation cases: a customer's own, or everybody's for staff with the view permission.

    Changes go through the service layer; refusals answer 409 with a stable ``code``.
    """

    lookup_field = "reference"
    # What a reference can look like (converters.py); any other path under cases/ (a NUL byte,
    # an encoded "/") reaches NotFoundView, the API's JSON 404, without touching the database.
    lookup_value_regex = REFERENCE_PATTERN
    pagination_class = CasePagination
    serializer_class = CaseSerializer
    query_serializer_classes = {"list": CaseFilterSerializer}
    backend_error_actions = {"create": ("502", "503"), "accept_offer": ("502", "503")}

    def _base_queryset(self) -> QuerySet:
        return CancellationCase.objects.select_related(
            "reason", "customer", "offer_presentation__offer"
        ).order_by("-created_at", "-pk")

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return CancellationCase.objects.none()
        queryset = self._base_queryset()
        user = self.request.user
        # Staff with the view permission read everybody's cases; every change, even by staff,
        # is limited to the user's own cases (staff work other cases in the admin).
        if self.action in ("list", "retrieve") and can_view_all_cases(user):
            return queryset
        return queryset.filter(customer=user)

    def _respond(
        self,
        case: CancellationCase,
        status_code: int = status.HTTP_200_OK,
        *,
        presentation: Any = _UNKNOWN,
    ) -> Response:
        # The service hands back the instance it changed, with its reason and presentation
        # (``lock_case`` reads them with the lock): answer from it rather than reading the case
        # again (issue 19). Only what it does not know is read.
        if presentation is not _UNKNOWN:
            CancellationCase.offer_presentation.related.set_cached_value(case, presentation)
        user = self.request.user
        if isinstance(user, models.Model) and case.customer_id == user.pk:
            CancellationCase.customer.field.set_cached_value(case, user)
        known = CancellationCase.offer_presentation.related.is_cached(case) and (
            case.reason_id is None or CancellationCase.reason.field.is_cached(case)
        )
        if not known or not CancellationCase.customer.field.is_cached(case):
            case = self._base_queryset().get(pk=case.pk)
        return Response(
            CaseSerializer(case, context=self.get_serializer_context()).data, status=status_code
        )

    def list(self, request: Request) -> Response:
        filters = self.validated(CaseFilterSerializer, request.query_params)
        queryset = self.get_queryset()
        lookups = {
            "status": "status",
            "reason": "reason__slug",
            "channel": "preferred_channel",
            "owner": "owner_id",
            "created_after": "created_at__gte",
            "created_before": "created_at__lt",
        }
        queryset = queryset.filter(
            **{lookup: filters[name] for name, lookup in lookups.items() if name in filters}
        )
        page = self.paginate_queryset(queryset)
        data = CaseSummarySerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, reference: str | None = None) -> Response:
        return Response(
            CaseSerializer(self.get_object(), context=self.get_serializer_context()).data
        )

    @idempotent
    def create(self, request: Request) -> Response:
        data = self.validated(StartCaseSerializer, request.data)
        case, created = flow.start_case(
            request.user,
            language=data.get("language"),
            time_zone=data.get("time_zone", ""),
            # Where the customer is for the law decides the case's profile (docs/compliance.md);
            # resolved with the subscription start_case reads, so the provider is asked once.
            jurisdiction=lambda info: resolve_jurisdiction(
                request.user, request, subscription=info
            ),
            actor=request.user,
        )
        if created:
            # A new case has no offer yet.
            return self._respond(case, status.HTTP_201_CREATED, presentation=None)
        return self._respond(case)

    @action(detail=True, methods=["post"], url_path="reason")
    @idempotent
    def reason(self, request: Request, reference: str | None = None) -> Response:
        case = self.get_object()
        data = self.validated(RecordReasonSerializer, request.data, case=case)
        case, presentation = flow.submit_reason(case, data["answer"], actor=request.user)
        # ``present_offer`` returns the case's one presentation, or None when it has none.
        return self._respond(case, presentation=presentation)

    @action(detail=True, methods=["post"], url_path="accept-offer")
    @idempotent
    def accept_offer(self, request: Request, reference: str | None = None) -> Response:
        case = self.get_object()
        self.validated(EmptySerializer, request.data)
        return self._respond(flow.accept_offer(case, actor=request.user))

    @action(detail=True, methods=["post"], url_path="decline-offer")
    @idempotent
    def decline_offer(self, request: Request, reference: str | None = None) -> Response:
        case = self.get_object()
        self.validated(EmptySerializer, request.data)
        return self._respond(flow.decline_offer(case, actor=request.user))

    @action(detail=True, methods=["post"], url_path="confirm")
    @idempotent
    def confirm(self, request: Request, reference: str | None = None) -> Response:
        case = self.get_object()
        data = self.validated(ConfirmSerializer, request.data)
        case = flow.confirm_cancellation(case, effective=data.get("effective"), actor=request.user)
        return self._respond(case)

    @action(detail=True, methods=["post"], url_path="hear-offer")
    @idempotent
    def hear_offer(self, request: Request, reference: str | None = None) -> Response:
        case = self.get_object()
        self.validated(EmptySerializer, request.data)
        presentation = flow.hear_offer(case, actor=request.user)
        return self._respond(case, presentation=presentation)

    @action(detail=True, methods=["post"], url_path="no-offer")
    @idempotent
    def no_offer(self, request: Request, reference: str | None = None) -> Response:
        case = self.get_object()
        self.validated(EmptySerializer, request.data)
        # "No, thanks" is as easy as "yes", and recorded the same way (timeline, signal).
        return self._respond(flow.decline_offer_question(case, actor=request.user))

    @action(detail=True, methods=["post"], url_path="reactivate")
    @idempotent
    def reactivate(self, request: Request, reference: str | None = None) -> Response:
        case = self.get_object()
        self.validated(EmptySerializer, request.data)
        return self._respond(flow.reactivate(case, actor=request.user))


# --- analytics ---------------------------------------------------------------------------------


class AnalyticsSummaryView(GracefulCancelAPIView):
    """Figures for staff with the ``graceful_cancel.view_cancellationcase`` permission."""

    permission_classes = [CanViewAllCases]
    query_serializer_classes = {"get": SummaryQuerySerializer}

    @extend_schema(
        tags=["analytics"],
        summary="Counts by status and reason, save rate and offer acceptance (staff)",
        parameters=[SummaryQuerySerializer],
        responses=SummarySerializer,
    )
    def get(self, request: Request) -> Response:
        query = self.validated(SummaryQuerySerializer, request.query_params)
        cohort = revenue.parse_cohort(
            query.get("plan"), query.get("tenure"), query.get("signup_month")
        )
        # The summary is returned as analytics.py builds it, so figures added there appear here;
        # "mrr" is the revenue on every reason (services/revenue.py).
        return Response(
            {
                **analytics.summary(query.get("start"), query.get("end")),
                "mrr": revenue.figures(query.get("start"), query.get("end"), cohort),
            }
        )


# --- schema and unknown paths ------------------------------------------------------------------


class _SchemaUnavailableView(GracefulCancelAPIView):
    permission_classes = [AllowAny]
    schema = None

    def get(self, request: Request) -> Response:
        return Response(
            {
                "code": "schema_unavailable",
                "detail": str(_("Install drf-spectacular to serve the OpenAPI schema.")),
            },
            status=status.HTTP_501_NOT_IMPLEMENTED,
        )


if HAS_SPECTACULAR:
    from drf_spectacular.views import SpectacularAPIView

    class SchemaView(SpectacularAPIView):
        """OpenAPI 3 of this API only, with paths under wherever the host mounted it."""

        permission_classes = [AllowAny]  # the schema describes the API, it holds no data
        schema = None
        custom_settings = {
            "TITLE": "django-graceful-cancel API",
            "DESCRIPTION": "The cancellation flow for frontends. See docs/api.md.",
            "VERSION": __version__,
            # Separate request and response components: read-only fields are required in
            # responses and absent from requests, as they really are.
            "COMPONENT_SPLIT_REQUEST": True,
            # One name for the choice set used by "effective" (input) and "effective_mode".
            "ENUM_NAME_OVERRIDES": {
                "EffectiveModeEnum": "django_graceful_cancel.choices.EffectiveMode",
            },
        }

        def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
            suffix = "schema/"
            mount = request.path_info.lstrip("/")
            prefix = mount[: -len(suffix)] if mount.endswith(suffix) else ""
            self.patterns = [path(prefix, include("django_graceful_cancel.api.urls"))]
            return super().get(request, *args, **kwargs)

else:  # pragma: no cover - covered by the subprocess test without drf-spectacular
    SchemaView = _SchemaUnavailableView  # type: ignore[assignment,misc]


class NotFoundView(GracefulCancelAPIView):
    """Any other path under the API: a JSON 404, not the host's HTML page."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    schema = None

    def get_throttles(self) -> list[Any]:
        return []

    def _not_found(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.NotFound()

    get = post = put = patch = delete = head = _not_found

    def options(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        raise exceptions.NotFound()
