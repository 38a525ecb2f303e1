"""OpenAPI support for the REST API through drf-spectacular, an optional dependency.

With drf-spectacular installed (``pip install django-graceful-cancel[spectacular]``) the API's
views use ``GracefulCancelAutoSchema``, which documents what every operation can answer: the
error bodies (``{"code": ..., "detail": ...}`` or DRF's field errors), the ``Idempotency-Key``
header on POSTs and, for request bodies, that unknown fields are refused. Without it the API works
the same and ``schema/`` answers 501; ``extend_schema`` and friends below become no-ops.

This module imports nothing else of the API: ``serializers``, ``views`` and ``idempotency`` import
it. A request serializer says it refuses unknown fields with ``refuses_unknown_fields = True``, and
states rules across its fields with ``schema_constraints`` (JSON Schema fragments, all of which a
body must match).

The schema also states what the API refuses, so that clients and fuzzers need not find out:
request strings carry no NUL (``NO_NUL_PATTERN``: PostgreSQL cannot store it, DRF refuses it with
a 400), and a ``PhoneNumberField`` is ``format: phone``, a number written with digits, spaces and
the usual punctuation, with a country code (``+``) unless ``GRACEFUL_CANCEL["PHONE_REGION"]``
names a region (the service checks the number itself: ``services.inputs.check_phone``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

try:
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import (
        OpenApiParameter,
        OpenApiResponse,
        extend_schema_field,
        extend_schema_view,
        inline_serializer,
    )
    from drf_spectacular.utils import extend_schema as _spectacular_extend_schema

    HAS_SPECTACULAR = True
except ImportError:  # pragma: no cover - exercised by test_api_without_spectacular in a subprocess
    HAS_SPECTACULAR = False
    AutoSchema = None  # type: ignore[assignment,misc]
    OpenApiTypes = None  # type: ignore[assignment,misc]
    OpenApiParameter = None  # type: ignore[assignment,misc]
    OpenApiResponse = None  # type: ignore[assignment,misc]
    inline_serializer = None  # type: ignore[assignment]

    def _passthrough(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        def decorator(target: Any) -> Any:
            return target

        return decorator

    extend_schema = _passthrough
    extend_schema_field = _passthrough
    extend_schema_view = _passthrough


#: The body of a 400: DRF's field errors ({"field": ["message", ...]}) or, for a body that is
#: not JSON at all, the usual {"code", "detail"}.
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "description": "Field errors: each key names a field (or non_field_errors).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "minProperties": 1,
        },
        {"$ref": "#/components/schemas/Error"},
    ]
}


class ErrorSerializer(serializers.Serializer):
    """Every error that is not a field error: a stable machine-readable code and a message
    (produced by api/views.py's exception handler)."""

    code = serializers.CharField(help_text=_("Stable, machine-readable error code."))
    detail = serializers.CharField(
        help_text=_("Human-readable message, in the request's language.")
    )


#: The pattern of every request string without a pattern of its own: no NUL character.
NO_NUL_PATTERN = r"^[^\x00]*$"


def phone_pattern() -> str:
    """What a phone number field accepts, as a pattern: empty, or digits, spaces and ``().-/``
    after a ``+`` (optional when ``PHONE_REGION`` is set)."""
    from ..conf import app_settings

    plus = r"\+?" if app_settings.PHONE_REGION else r"\+"
    return rf"^$|^{plus}[0-9][0-9 ().\/-]*$"


class PhoneNumberField(serializers.CharField):
    """A phone number as typed; documented as ``format: phone`` with ``phone_pattern()``. Whether
    it is a number at all is the service's rule (``services.inputs.check_phone``)."""

    schema_format = "phone"


#: Header clients send on POSTs to make a retry safe (see api/idempotency.py).
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 255


def get_schema_instance() -> Any:
    """The ``schema`` attribute for the API's views: ours when drf-spectacular is installed.

    Set per view (not through the host's ``DEFAULT_SCHEMA_CLASS``) so the app's schema is
    complete whatever the host configured.
    """
    if not HAS_SPECTACULAR:
        from rest_framework.schemas import DefaultSchema

        return DefaultSchema()
    return GracefulCancelAutoSchema()


if HAS_SPECTACULAR:
    import inspect

    def extend_schema(**kwargs: Any) -> Callable[[Any], Any]:
        """drf-spectacular's ``extend_schema``, based on our schema class for view methods.

        drf-spectacular builds a method's schema on the host's ``DEFAULT_SCHEMA_CLASS``, which
        may be DRF's own; naming ours first keeps the API documented whatever the host uses.
        """
        decorate = _spectacular_extend_schema(**kwargs)

        def apply(target: Any) -> Any:
            if callable(target) and not inspect.isclass(target):
                if not hasattr(target, "kwargs"):
                    target.kwargs = {}
                target.kwargs.setdefault("schema", GracefulCancelAutoSchema)
            return decorate(target)

        return apply

    class GracefulCancelAutoSchema(AutoSchema):
        """Adds the error responses and headers every operation of the API can produce."""

        def get_override_parameters(self) -> list[Any]:
            params = list(super().get_override_parameters())
            if self.method == "POST":
                params.append(
                    OpenApiParameter(
                        IDEMPOTENCY_HEADER,
                        {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
                            "pattern": r"^\S(.*\S)?$",
                        },
                        OpenApiParameter.HEADER,
                        required=False,
                        description=str(
                            _(
                                "Any unique string (a UUID is a good choice). Repeating a request "
                                "with the same key returns the first response instead of acting "
                                "twice; reusing a key for a different request is refused with 409."
                            )
                        ),
                    )
                )
            return params

        def _error_responses(self) -> dict[str, tuple[Any, StrOrPromise]]:
            view = self.view
            responses: dict[str, tuple[Any, StrOrPromise]] = {
                "401": (ErrorSerializer, _("Not authenticated (token authentication).")),
                "403": (
                    ErrorSerializer,
                    _("Not authenticated (session), CSRF failure or not allowed."),
                ),
            }
            action = getattr(view, "action", None) or self.method.lower()
            has_query = action in getattr(view, "query_serializer_classes", {})
            if self.method == "POST" or has_query:
                responses["400"] = (
                    VALIDATION_ERROR_SCHEMA,
                    _("Invalid input: field errors, or a code and detail."),
                )
            if "{" in self.path or has_query:
                responses["404"] = (ErrorSerializer, _("No such case, or not yours."))
            if self.method == "POST":
                responses["409"] = (
                    ErrorSerializer,
                    _(
                        "Not allowed in the case's current state, or the Idempotency-Key was "
                        "used for another request or is still running (see the code)."
                    ),
                )
                responses["415"] = (ErrorSerializer, _("Send the body as application/json."))
                responses["429"] = (ErrorSerializer, _("Too many requests; retry later."))
            for code in getattr(view, "backend_error_actions", {}).get(action, ()):
                responses[code] = (
                    ErrorSerializer,
                    _("The subscription provider failed (503: retry later; 502: it refused)."),
                )
            return responses

        def _get_response_bodies(
            self, direction: Literal["request", "response"] = "response"
        ) -> dict[str, Any]:
            responses = super()._get_response_bodies(direction)
            for code, (serializer, description) in self._error_responses().items():
                if code not in responses:
                    responses[code] = self._get_response_for_code(
                        OpenApiResponse(response=serializer, description=str(description)),
                        code,
                        direction=direction,
                    )
            return responses

        def _map_serializer(
            self, serializer: Any, direction: str, bypass_extensions: bool = False
        ) -> dict[str, Any]:
            result = super()._map_serializer(serializer, direction, bypass_extensions)
            if direction != "request":
                return result
            if getattr(serializer, "refuses_unknown_fields", False):
                # Unknown fields are a 400: say so, so generated clients and fuzzers know.
                result["additionalProperties"] = False
            constraints = getattr(serializer, "schema_constraints", None)
            if constraints:
                # Rules across fields (JSON Schema fragments the serializer declares).
                result["allOf"] = list(constraints)
            properties = result.get("properties", {})
            for name, field in getattr(serializer, "fields", {}).items():
                prop = properties.get(name)
                if not isinstance(prop, dict):
                    continue
                if getattr(field, "schema_format", None) == "phone":
                    prop.update(format="phone", pattern=phone_pattern())
                elif prop.get("type") == "string" and not {"enum", "format", "pattern"} & set(prop):
                    # DRF refuses a NUL in any string (400): say so.
                    prop["pattern"] = NO_NUL_PATTERN
            return result
