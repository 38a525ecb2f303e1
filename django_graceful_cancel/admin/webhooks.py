"""Outbound webhooks in the admin: the endpoints staff configure, and the delivery log (webhooks
and staff alerts) with its "send again" action (docs/webhooks.md)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..models import OutboundDelivery, WebhookEndpoint
from ..webhooks import events, outbox
from .desk import ReadOnlyAdmin


def endpoint_formfield(field: Any, **kwargs: Any) -> Any:
    """Form fields of an endpoint; a URL typed without a scheme means https (Django 6's default,
    stated so Django 5.2 does not warn)."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class WebhookEndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        label=capfirst(_("event types")),
        choices=events.event_type_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Leave every box empty to receive every event type."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "active", "secret"]
        formfield_callback = endpoint_formfield


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    # The admin builds its own form fields: the same https default as the form (Django 5.2 warns
    # without one).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("__str__", "url", "subscribed", "active", "log", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "description")
    actions = ["rotate_secret"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # The secret is given at creation (or generated); afterwards it changes only by the
        # "rotate" action, so nobody overwrites it by accident.
        return ("secret", "created_at", "updated_at") if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["url", "description", "event_types", "active", "secret"]
        return [*fields, "created_at", "updated_at"] if obj is not None else fields

    @admin.display(description=_("event types"))
    def subscribed(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types) or str(_("every event type"))

    @admin.display(description=_("delivery log"))
    def log(self, endpoint: WebhookEndpoint) -> str:
        url = reverse("admin:graceful_cancel_outbounddelivery_changelist")
        return format_html(
            '<a href="{}?endpoint__id__exact={}">{}</a>', url, endpoint.pk, _("deliveries")
        )

    @admin.action(description=_("Rotate the signing secret"), permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = outbox.rotate_secrets(queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext(
                "New secret for %(count)d endpoint: give it to the receiver.",
                "New secrets for %(count)d endpoints: give them to the receivers.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(OutboundDelivery)
class OutboundDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: every webhook event and staff alert, its status and its attempts."""

    list_display = (
        "created_at",
        "event_type",
        "target",
        "case",
        "status",
        "response_code",
        "attempts",
        "due_at",
        "delivered_at",
    )
    list_filter = ("status", "channel", "event_type", "endpoint")
    search_fields = ("=case__reference", "=event_id")
    list_select_related = ("endpoint", "case")
    show_full_result_count = False
    ordering = ("-pk",)
    actions = ["send_again"]
    fields = (
        "event_type",
        "event_id",
        "channel",
        "endpoint",
        "case",
        "status",
        "attempts",
        "response_code",
        "last_error",
        "due_at",
        "delivered_at",
        "created_at",
        "payload_json",
    )
    readonly_fields = fields

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) or self.has_send_permission(request)

    def has_send_permission(self, request: HttpRequest) -> bool:
        """Sending again is managing the endpoints."""
        return request.user.has_perm("graceful_cancel.change_webhookendpoint")

    @admin.display(description=_("to"))
    def target(self, delivery: OutboundDelivery) -> str:
        return str(delivery.endpoint) if delivery.endpoint_id else delivery.channel

    @admin.display(description=_("payload"))
    def payload_json(self, delivery: OutboundDelivery) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(delivery.payload, indent=2, ensure_ascii=False)
        )

    @admin.action(description=_("Send again"), permissions=["send"])
    def send_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = outbox.send_again(queryset.values_list("pk", flat=True), actor=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.",
                "%(count)d deliveries will be sent again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
