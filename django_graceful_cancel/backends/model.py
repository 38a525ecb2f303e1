"""A subscription backend over the host's own Django model.

Configure it with ``GRACEFUL_CANCEL["SUBSCRIPTION_MODEL"] = "shop.Subscription"`` and, when the
model's field names differ from the defaults, ``GRACEFUL_CANCEL["SUBSCRIPTION_FIELDS"]``. Each
entry names a field (or a ``__`` path through relations, read-only) or is None when the model has
no such field. Three common shapes are covered by configuration alone (docs/backends.md):

* Stripe-like: ``status`` with "active"/"canceled" values and a ``cancel_at_period_end`` flag;
* a one-to-one from the user: ``customer`` names the one-to-one field, nothing else changes;
* no status at all: ``status=None``, ``active="is_active"`` and ``current_period_end`` naming the
  expiry date (a DateField works), ``auto_renew="renews"`` to remember a deferred cancellation.

Its keys are declared in ``ModelSubscriptionBackend.options`` and checked by its ``check()``
(``graceful_cancel.E005``); docs/backends.md documents each one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.apps import apps
from django.core.checks import CheckMessage, Error
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ObjectDoesNotExist
from django.db import models, transaction
from django.utils import timezone

from ..conf import SETTINGS_NAME, Option, optional_str
from ..exceptions import BackendError
from .base import ACTIVE_STATUSES, BaseSubscriptionBackend, SubscriptionInfo

#: Defaults for ``GRACEFUL_CANCEL["SUBSCRIPTION_FIELDS"]``.
DEFAULT_FIELDS: dict[str, str | None] = {
    "customer": "user",
    "status": "status",
    "active": None,
    "plan": "plan",
    "price": None,
    "currency": None,
    "interval": None,
    "started_at": None,
    "current_period_end": "current_period_end",
    "cancel_at_period_end": None,
    "auto_renew": None,
    "canceled_at": None,
    "paused_until": None,
}


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, dt.date):
        # An expiry *date* means access until the end of that day.
        return timezone.make_aware(dt.datetime.combine(value, dt.time.max))
    raise TypeError(f"Not a date: {value!r}")


def _path_exists(model: Any, path: str) -> bool:
    current = model
    for part in path.split("__"):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            # A property on the model is fine for read-only keys such as "plan__price".
            return hasattr(current, part)
        if field.is_relation and field.related_model is not None:
            current = field.related_model
    return True


class ModelSubscriptionBackend(BaseSubscriptionBackend):
    options_docs = "docs/backends.md"
    options = {
        # The host's subscription model, as "app_label.ModelName"; required (check E005).
        "SUBSCRIPTION_MODEL": Option(
            None,
            help='the subscription model, as "app_label.ModelName"',
            valid=optional_str,
            expected='None or "app_label.ModelName"',
        ),
        # Which field of the host model holds what. Values are field names or "__" paths (e.g.
        # "plan__price"); None means the model has no such field. Keys left out keep their
        # default (DEFAULT_FIELDS above).
        "SUBSCRIPTION_FIELDS": Option(
            {}, valid=lambda v: isinstance(v, dict), expected="a dict of field names"
        ),
        # Status values that count as an active subscription (the first is written back when a
        # cancellation is undone), and the value written when a subscription is cancelled at once.
        "SUBSCRIPTION_ACTIVE_STATUSES": ACTIVE_STATUSES,
        "SUBSCRIPTION_CANCELED_STATUS": Option(
            "canceled", valid=lambda v: isinstance(v, str), expected="a string"
        ),
        # The field of the plan model that an offer's "plan" parameter names (downgrade offers).
        "PLAN_LOOKUP_FIELD": Option(
            "code", valid=lambda v: isinstance(v, str) and bool(v), expected="a field name"
        ),
    }

    @classmethod
    def check(cls, **kwargs: Any) -> list[CheckMessage]:
        """E005: the model must be installed, and each configured field must exist on it."""
        errors = super().check(**kwargs)
        hint = f"See {cls.options_docs}."
        label = cls.get_setting("SUBSCRIPTION_MODEL")
        if not label or not isinstance(label, str):
            return [
                *errors,
                Error(
                    f'{SETTINGS_NAME}["SUBSCRIPTION_MODEL"] must name your subscription model '
                    '("app_label.ModelName") when the model backend is used.',
                    hint=hint,
                    id="graceful_cancel.E005",
                ),
            ]
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            return [
                *errors,
                Error(
                    f'{SETTINGS_NAME}["SUBSCRIPTION_MODEL"] = {label!r} is not an installed model.',
                    hint=hint,
                    id="graceful_cancel.E005",
                ),
            ]
        configured = cls.get_setting("SUBSCRIPTION_FIELDS") or {}
        if not isinstance(configured, dict):
            return errors  # reported as E003
        for key, path in {**DEFAULT_FIELDS, **configured}.items():
            if key not in DEFAULT_FIELDS:
                errors.append(
                    Error(
                        f'Unknown {SETTINGS_NAME}["SUBSCRIPTION_FIELDS"] key {key!r}.',
                        hint=f"Known keys: {', '.join(DEFAULT_FIELDS)}.",
                        id="graceful_cancel.E005",
                    )
                )
            elif path and not _path_exists(model, path):
                errors.append(
                    Error(
                        f'{SETTINGS_NAME}["SUBSCRIPTION_FIELDS"][{key!r}] = {path!r}: '
                        f"{model._meta.label} has no such field.",
                        hint="Set it to the right field name, or None if the model has none.",
                        id="graceful_cancel.E005",
                    )
                )
        return errors

    @cached_property
    def model(self) -> type[models.Model]:
        label = self.get_option("SUBSCRIPTION_MODEL")
        if not label:
            raise ImproperlyConfigured(
                'GRACEFUL_CANCEL["SUBSCRIPTION_MODEL"] must name the subscription model '
                '("app_label.ModelName") when the model backend is used.'
            )
        return apps.get_model(label)

    @cached_property
    def fields(self) -> dict[str, str | None]:
        return {**DEFAULT_FIELDS, **(self.get_option("SUBSCRIPTION_FIELDS") or {})}

    @property
    def active_statuses(self) -> list[str]:
        return list(self.get_option("SUBSCRIPTION_ACTIVE_STATUSES"))

    @property
    def supports_period_end_cancel(self) -> bool:  # type: ignore[override]
        f = self.fields
        return bool(f["cancel_at_period_end"] or f["auto_renew"] or f["canceled_at"])

    # --- reading -----------------------------------------------------------------------------

    def reference_for(self, instance: models.Model) -> str:
        return f"{self.model._meta.label_lower}:{instance.pk}"

    def _pk_from_reference(self, reference: str) -> str:
        prefix, _, pk = reference.rpartition(":")
        if prefix != self.model._meta.label_lower or not pk:
            raise BackendError(
                f"Not a {self.model._meta.label} reference: {reference}", transient=False
            )
        return pk

    def _read(self, instance: models.Model, key: str) -> Any:
        path = self.fields.get(key)
        if not path:
            return None
        value: Any = instance
        for part in path.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return None
        return value

    def _active_filter(self) -> models.Q:
        f = self.fields
        q = models.Q()
        if f["status"]:
            q &= models.Q(**{f"{f['status']}__in": self.active_statuses})
        if f["active"]:
            q &= models.Q(**{f["active"]: True})
        return q

    def _is_active(self, instance: models.Model) -> bool:
        f = self.fields
        if f["status"] and self._read(instance, "status") not in self.active_statuses:
            return False
        if f["active"] and not self._read(instance, "active"):
            return False
        end = _as_datetime(self._read(instance, "current_period_end"))
        return not (not f["status"] and end is not None and end < timezone.now())

    def describe(self, instance: models.Model) -> SubscriptionInfo:
        plan = self._read(instance, "plan")
        price = self._read(instance, "price")
        if price is None and plan is not None:
            price = getattr(plan, "price", None)
        cancel_flag = bool(self._read(instance, "cancel_at_period_end"))
        if self.fields["auto_renew"]:
            cancel_flag = cancel_flag or not self._read(instance, "auto_renew")
        return SubscriptionInfo(
            reference=self.reference_for(instance),
            plan=str(plan) if plan is not None else "",
            plan_code=str(getattr(plan, self.get_option("PLAN_LOOKUP_FIELD"), plan) or "")
            if plan is not None
            else "",
            price=Decimal(str(price)) if price is not None else None,
            currency=str(self._read(instance, "currency") or getattr(plan, "currency", "") or ""),
            interval=str(self._read(instance, "interval") or getattr(plan, "interval", "") or ""),
            started_at=_as_datetime(self._read(instance, "started_at")),
            current_period_end=_as_datetime(self._read(instance, "current_period_end")),
            is_active=self._is_active(instance),
            cancel_at_period_end=cancel_flag,
        )

    def get_active_subscription(self, customer: Any) -> SubscriptionInfo | None:
        customer_field = self.fields["customer"]
        if not customer_field:
            raise ImproperlyConfigured('SUBSCRIPTION_FIELDS["customer"] must name a field.')
        qs = self.model._default_manager.filter(self._active_filter(), **{customer_field: customer})
        for instance in qs.order_by("-pk")[:5]:
            if self._is_active(instance):
                return self.describe(instance)
        return None

    def get_subscription(self, reference: str) -> SubscriptionInfo | None:
        instance = self.model._default_manager.filter(pk=self._pk_from_reference(reference)).first()
        return self.describe(instance) if instance is not None else None

    # --- writing -----------------------------------------------------------------------------

    def _locked(self, reference: str) -> models.Model:
        pk = self._pk_from_reference(reference)
        try:
            return self.model._default_manager.select_for_update().get(pk=pk)
        except ObjectDoesNotExist as exc:
            raise BackendError(f"No subscription {reference}", transient=False) from exc

    def _set(self, instance: models.Model, key: str, value: Any, changed: list[str]) -> None:
        name = self.fields.get(key)
        if name:
            if "__" in name:
                raise ImproperlyConfigured(
                    f"SUBSCRIPTION_FIELDS[{key!r}] must be a field, not a path."
                )
            setattr(instance, name, value)
            changed.append(name)

    def cancel(self, reference: str, *, at_period_end: bool, case: Any) -> None:
        with transaction.atomic():
            instance = self._locked(reference)
            changed: list[str] = []
            self._set(instance, "canceled_at", timezone.now(), changed)
            if at_period_end and self.supports_period_end_cancel:
                self._set(instance, "cancel_at_period_end", True, changed)
                self._set(instance, "auto_renew", False, changed)
            else:
                self._set(
                    instance, "status", self.get_option("SUBSCRIPTION_CANCELED_STATUS"), changed
                )
                self._set(instance, "active", False, changed)
                self._set(instance, "auto_renew", False, changed)
            instance.save(update_fields=changed or None)

    def reactivate(self, reference: str, *, case: Any) -> None:
        with transaction.atomic():
            instance = self._locked(reference)
            changed: list[str] = []
            self._set(instance, "canceled_at", None, changed)
            self._set(instance, "cancel_at_period_end", False, changed)
            self._set(instance, "auto_renew", True, changed)
            self._set(instance, "status", self.active_statuses[0], changed)
            self._set(instance, "active", True, changed)
            instance.save(update_fields=changed or None)

    def apply_offer(self, reference: str, offer: Any, *, case: Any) -> dict[str, Any]:
        params = offer.parameters or {}
        with transaction.atomic():
            instance = self._locked(reference)
            changed: list[str] = []
            result: dict[str, Any] = {"kind": offer.kind}
            end = _as_datetime(self._read(instance, "current_period_end"))
            if offer.kind in ("extension", "pause"):
                days = int(params.get("days") or 30 * int(params.get("months") or 1))
                if end is not None:
                    new_end = end + dt.timedelta(days=days)
                    field = self.model._meta.get_field(self.fields["current_period_end"] or "")
                    value = (
                        new_end.date()
                        if isinstance(field, models.DateField)
                        and not isinstance(field, models.DateTimeField)
                        else new_end
                    )
                    self._set(instance, "current_period_end", value, changed)
                    result["current_period_end"] = new_end.isoformat()
                if offer.kind == "pause":
                    until = timezone.now() + dt.timedelta(days=days)
                    self._set(instance, "paused_until", until, changed)
                    result["paused_until"] = until.isoformat()
            elif offer.kind == "downgrade":
                result.update(self._downgrade(instance, params, changed))
            else:
                result["applied_by"] = "signal"
            if changed:
                instance.save(update_fields=changed)
            return result

    def _downgrade(
        self, instance: models.Model, params: dict[str, Any], changed: list[str]
    ) -> dict[str, Any]:
        plan_field_name = self.fields["plan"]
        code = params.get("plan")
        if not plan_field_name or not code or "__" in plan_field_name:
            raise BackendError(
                "Downgrade offers need a plan field and a 'plan' parameter.", transient=False
            )
        plan_field = self.model._meta.get_field(plan_field_name)
        related = plan_field.related_model if plan_field.is_relation else None
        if isinstance(related, type):
            try:
                target = related._default_manager.get(
                    **{self.get_option("PLAN_LOOKUP_FIELD"): code}
                )
            except ObjectDoesNotExist as exc:
                raise BackendError(f"No plan {code!r} to downgrade to.", transient=False) from exc
        else:
            target = code
        self._set(instance, "plan", target, changed)
        return {"plan": str(target)}
