"""A subscription backend over the host's own Django model.

Configure it with ``GRACEFUL_CANCEL["SUBSCRIPTION_MODEL"] = "shop.Subscription"`` and, when the
model's field names differ from the defaults, ``GRACEFUL_CANCEL["SUBSCRIPTION_FIELDS"]``. Each
entry names a field, a ``__`` path through single-object relations (a foreign key or a one-to-one,
read and written: ``"renewal__enabled"``), or is None when the model has no such field. Common
shapes are covered by configuration alone (docs/backends.md):

* Stripe-like: ``status`` with "active"/"canceled" values and a ``cancel_at_period_end`` flag;
* a one-to-one from the user: ``customer`` names the one-to-one field, nothing else changes;
* no status at all: ``status=None``, ``active="is_active"`` and ``current_period_end`` naming the
  expiry date (a DateField works), ``auto_renew`` naming the renewal flag, on the model or on a
  related one (``"renewal__auto_renew"``). A cancellation then keeps access until the expiry date
  and stops the renewal.

What it can do follows from the fields it is given (``capabilities()``): it applies pause and
extension offers when the period end is mapped, downgrades when the plan is, and nothing else
itself. Where renewal lives somewhere no path reaches, a subclass overrides ``renewal_stopped``,
``stop_renewal`` and ``resume_renewal`` (docs/backends.md shows one).

Its keys are declared in ``ModelSubscriptionBackend.options`` and checked by its ``check()``:
``graceful_cancel.E005`` for a model, field or path that does not exist or cannot be used as
configured, ``graceful_cancel.E010`` for a shape whose renewal cannot be stopped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from django.apps import apps
from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import (
    FieldDoesNotExist,
    FieldError,
    ImproperlyConfigured,
    MultipleObjectsReturned,
    ObjectDoesNotExist,
    ValidationError,
)
from django.db import models, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from ..choices import OfferKind
from ..conf import SETTINGS_NAME, Option, optional_str
from ..exceptions import BackendError
from .base import (
    ACTIVE_STATUSES,
    BaseSubscriptionBackend,
    Capabilities,
    ResubscribeQuote,
    ResubscribeResult,
    SubscriptionInfo,
)

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
    # The billing country and region (jurisdiction.py): a field, a path ("user__profile__country")
    # or a property at its end (computed however the site likes).
    "country": None,
    "region": None,
}

#: Keys the backend only reads: a field, or a property of the model at the end of the path.
READ_ONLY_KEYS = frozenset({"price", "currency", "interval", "started_at", "country", "region"})
#: Keys used in database queries: they must be fields (a property cannot be filtered on).
QUERIED_KEYS = frozenset({"customer", "status", "active"})
#: Fields that remember a cancellation at the period end (any one of them is enough).
DEFERRAL_KEYS = ("cancel_at_period_end", "auto_renew", "canceled_at")
#: What kind of field each written key must be.
DATE_KEYS = frozenset({"current_period_end", "canceled_at", "paused_until"})
FLAG_KEYS = frozenset({"active", "cancel_at_period_end", "auto_renew"})

#: The offer kinds a plain model can apply (each needs a field: ``capabilities()``).
MODEL_OFFER_KINDS = frozenset({OfferKind.PAUSE, OfferKind.EXTENSION, OfferKind.DOWNGRADE})

E_FIELDS = "graceful_cancel.E005"
E_RENEWAL = "graceful_cancel.E010"
W_OFFER = "graceful_cancel.W011"


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, dt.date):
        # An expiry *date* means access until the end of that day.
        return timezone.make_aware(dt.datetime.combine(value, dt.time.max))
    raise TypeError(f"Not a date: {value!r}")


def _is_date_only(model_field: Any) -> bool:
    return isinstance(model_field, models.DateField) and not isinstance(
        model_field, models.DateTimeField
    )


@dataclass(frozen=True)
class FieldPath:
    """A ``SUBSCRIPTION_FIELDS`` value resolved against the model: the relations it walks
    through and what it ends on (a model field, or None for a property)."""

    path: str
    relations: tuple[str, ...]
    field: Any  # a django.db.models.Field, or None for a property at the end
    #: Why the path cannot be used at all (it names nothing, or walks a multi-valued relation).
    problem: str = ""
    #: It walks a foreign key: the row it ends on may be shared by other subscriptions (a plan,
    #: a price), so it is read, never written. One-to-one relations are not shared.
    shared: bool = False

    @property
    def name(self) -> str:
        return self.path.split("__")[-1]


def resolve_path(model: type[models.Model], path: str) -> FieldPath:
    """Walk ``path`` ("plan", "renewal__auto_renew") from ``model``; never raises."""
    parts = path.split("__")
    current: Any = model
    shared = False
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        try:
            found = current._meta.get_field(part)
        except FieldDoesNotExist:
            attribute = getattr(current, part, None)
            if last and attribute is not None and not callable(attribute):
                # A property (or a plain attribute): readable, not queryable nor writable.
                return FieldPath(path, tuple(parts[:-1]), None, shared=shared)
            return FieldPath(
                path, tuple(parts[:index]), None, f"{current._meta.label} has no field {part!r}"
            )
        single = found.is_relation and (found.many_to_one or found.one_to_one)
        if found.is_relation and not single:
            return FieldPath(
                path,
                tuple(parts[:index]),
                None,
                f"{current._meta.label}.{part} is a relation to many objects; a path may only "
                "follow foreign keys and one-to-one fields",
            )
        if last:
            return FieldPath(path, tuple(parts[:-1]), found, shared=shared)
        if not found.is_relation or found.related_model is None:
            return FieldPath(
                path, tuple(parts[:index]), None, f"{current._meta.label}.{part} is not a relation"
            )
        shared = shared or bool(found.many_to_one)
        current = found.related_model
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class PriceRows:
    """A price table whose rows belong to plans, read through the subscription's ``key``."""

    key: str
    table: Any
    plan: str
    amount: str
    same: tuple[str, ...]


@dataclass
class _Writes:
    """Field writes collected per object (the subscription and related ones), saved together."""

    objects: dict[int, tuple[models.Model, list[str]]] = field(default_factory=dict)

    def add(self, obj: models.Model, name: str) -> None:
        self.objects.setdefault(id(obj), (obj, []))[1].append(name)

    def save(self) -> None:
        for obj, names in self.objects.values():
            obj.save(update_fields=list(dict.fromkeys(names)))
        self.objects.clear()


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
        # Which field of the host model holds what. Values are field names or "__" paths through
        # foreign keys and one-to-one fields ("plan__price", "renewal__auto_renew"); None means
        # the model has no such field. Keys left out keep their default (DEFAULT_FIELDS above).
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
        # Returns (docs/returns.md): the dotted path of the site's hook that subscribes a former
        # customer again, hook(case=..., quote=..., offer=..., idempotency_key=...) -> the new
        # subscription's reference (it charges as the quote says; raise BackendError to refuse);
        # or, without a hook, a URL name or path of the site's own sign-up page the customer is
        # sent to. Neither: no come-back link is offered.
        "RESUBSCRIBE_HOOK": Option(None, valid=optional_str, expected="None or a dotted path"),
        "RESUBSCRIBE_URL": Option(None, valid=optional_str, expected="None or a URL name or path"),
        # Offer kinds the hook applies to the new subscription (a win-back "discount" with a
        # "percent_off" or a first-charge "price"); a win-back message carries no other kind.
        "RESUBSCRIBE_OFFER_KINDS": Option(
            [],
            valid=lambda v: isinstance(v, (list, tuple)) and all(k in OfferKind.values for k in v),
            expected="a list of offer kinds",
        ),
    }

    # --- configuration checks ----------------------------------------------------------------

    @classmethod
    def check(cls, **kwargs: Any) -> list[CheckMessage]:
        """E005: the model, each configured field and path, and ``PLAN_LOOKUP_FIELD`` must exist
        and be usable as configured; E010: the configured shape must let a cancellation stop the
        renewal."""
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
                    id=E_FIELDS,
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
                    id=E_FIELDS,
                ),
            ]
        configured = cls.get_setting("SUBSCRIPTION_FIELDS") or {}
        if not isinstance(configured, dict):
            return errors  # reported as E003
        for key in configured:
            if key not in DEFAULT_FIELDS:
                errors.append(
                    Error(
                        f'Unknown {SETTINGS_NAME}["SUBSCRIPTION_FIELDS"] key {key!r}.',
                        hint=f"Known keys: {', '.join(DEFAULT_FIELDS)}.",
                        id=E_FIELDS,
                    )
                )
        fields = {**DEFAULT_FIELDS, **{k: v for k, v in configured.items() if k in DEFAULT_FIELDS}}
        bad = False
        for key, path in fields.items():
            if not path:
                continue
            problem = cls.path_problem(model, key, path)
            if problem:
                bad = True
                errors.append(
                    Error(
                        f'{SETTINGS_NAME}["SUBSCRIPTION_FIELDS"][{key!r}] = {path!r}: {problem}.',
                        hint="Set it to the right field or path, or None if the model has none. "
                        + hint,
                        id=E_FIELDS,
                    )
                )
        if bad:
            return errors
        errors.extend(cls.plan_lookup_errors(model, fields))
        backend = cls()
        if not backend.capabilities().stop_renewal:
            errors.append(
                Error(
                    f"The model backend cannot stop the renewal of {model._meta.label}: with no "
                    "status and no field to record a cancellation, a cancelled subscription "
                    "would renew all the same.",
                    hint="Map SUBSCRIPTION_FIELDS['auto_renew'] (a renewal flag, on the model or "
                    "through a relation: 'renewal__auto_renew'), 'cancel_at_period_end', "
                    "'canceled_at' or 'status'; or subclass the backend and override "
                    "stop_renewal() where renewal lives elsewhere. " + hint,
                    id=E_RENEWAL,
                )
            )
        return errors

    @staticmethod
    def path_problem(model: type[models.Model], key: str, path: str) -> str:
        """Why ``path`` cannot serve as ``SUBSCRIPTION_FIELDS[key]`` on ``model``, or ""."""
        resolved = resolve_path(model, path)
        if resolved.problem:
            return resolved.problem
        target = resolved.field
        if target is None:  # a property
            if key in READ_ONLY_KEYS:
                return ""
            what = "queried" if key in QUERIED_KEYS else "written"
            return f"{resolved.name!r} is a property, but this key is {what}: it must be a field"
        if key in READ_ONLY_KEYS or key == "customer":
            return ""
        if resolved.shared:
            return (
                "this key is written, and the path goes through a foreign key: the row it ends "
                "on may be shared by other subscriptions (a plan, a price). Only one-to-one "
                "relations can be written through"
            )
        if key == "plan" and target.is_relation:
            return ""
        if target.is_relation or not getattr(target, "concrete", False):
            return f"{resolved.name!r} cannot be written (it is not a plain field)"
        if key in DATE_KEYS and not isinstance(target, models.DateField):
            return f"{resolved.name!r} must be a DateField or a DateTimeField"
        if key in FLAG_KEYS and not isinstance(target, models.BooleanField):
            return f"{resolved.name!r} must be a BooleanField"
        return ""

    @classmethod
    def plan_lookup_errors(
        cls, model: type[models.Model], fields: dict[str, str | None]
    ) -> list[CheckMessage]:
        path = fields.get("plan")
        if not path:
            return []
        target = resolve_path(model, path).field
        related = getattr(target, "related_model", None) if target is not None else None
        if not (isinstance(related, type) and issubclass(related, models.Model)):
            return []
        lookup = cls.get_setting("PLAN_LOOKUP_FIELD")
        try:
            related._meta.get_field(lookup)
        except FieldDoesNotExist:
            return [
                Error(
                    f'{SETTINGS_NAME}["PLAN_LOOKUP_FIELD"] = {lookup!r}: the plan model '
                    f"{related._meta.label} has no such field, so no downgrade could find its "
                    "plan.",
                    hint='Name the field of the plan model that downgrade offers\' "plan" '
                    f"parameter holds (a code or a slug). See {cls.options_docs}.",
                    id=E_FIELDS,
                )
            ]
        return []

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

    # --- capabilities ------------------------------------------------------------------------

    def _overrides(self, name: str) -> bool:
        return getattr(type(self), name) is not getattr(ModelSubscriptionBackend, name)

    def capabilities(self) -> Capabilities:
        """What the configured fields allow: see docs/backends.md ("What the model backend
        can do")."""
        f = self.fields
        elsewhere = self._overrides("stop_renewal")
        defers = elsewhere or any(f[key] for key in DEFERRAL_KEYS)
        kinds = set(self.applies_offers)
        if self.writable("current_period_end"):
            kinds |= {OfferKind.PAUSE, OfferKind.EXTENSION}
        if self.writable("plan"):
            kinds.add(OfferKind.DOWNGRADE)
        return Capabilities(
            offer_kinds=frozenset(str(kind) for kind in kinds),
            cancel_at_period_end=defers,
            cancel_now=bool(f["status"] or f["active"] or f["current_period_end"]),
            reactivate=defers,
            stop_renewal=defers or bool(f["status"]),
            # A pause moved the period end: resuming early or extending moves it again.
            pause_lifecycle=self.writable("current_period_end"),
            resubscribe=bool(self.get_option("RESUBSCRIBE_HOOK") or self.resubscribe_url()),
            resubscribe_offer_kinds=frozenset(self.get_option("RESUBSCRIBE_OFFER_KINDS") or [])
            if self.get_option("RESUBSCRIBE_HOOK")
            else frozenset(),
        )

    def path(self, key: str) -> FieldPath | None:
        """``SUBSCRIPTION_FIELDS[key]`` resolved on the model, or None when it is not mapped."""
        path = self.fields.get(key)
        return resolve_path(self.model, path) if path else None

    def writable(self, key: str) -> bool:
        """Whether ``key`` is mapped to a field the backend may write (not through a foreign
        key, whose row other subscriptions may share)."""
        resolved = self.path(key)
        return bool(resolved and not resolved.problem and resolved.field and not resolved.shared)

    @property
    def supports_period_end_cancel(self) -> bool:  # type: ignore[override]
        return self.capabilities().cancel_at_period_end

    def can_apply(self, offer: Any) -> bool:
        if not self.capabilities().applies(offer.kind):
            return False
        if offer.kind not in MODEL_OFFER_KINDS or offer.kind in self.applies_offers:
            return True
        return not self._offer_problem(offer)

    def offer_problems(self, offer: Any) -> list[CheckMessage]:
        if not self.capabilities().applies(offer.kind) or offer.kind in self.applies_offers:
            return []
        problem = self._offer_problem(offer)
        if not problem:
            return []
        return [
            Warning(
                f"The offer {offer.slug!r} cannot be applied: {problem}. It is not shown to "
                "anyone until this is fixed.",
                hint="Fix the offer's parameters in the admin, or deactivate it. "
                f"See {self.options_docs}.",
                obj=offer,
                id=W_OFFER,
            )
        ]

    def _offer_problem(self, offer: Any) -> str:
        """Why this backend cannot apply ``offer``, or "" (reads the plan table for downgrades)."""
        params = offer.parameters if isinstance(offer.parameters, dict) else {}
        if offer.kind in (OfferKind.PAUSE, OfferKind.EXTENSION):
            return "" if self._offer_days(params) else 'its "days" or "months" is not a number'
        if offer.kind == OfferKind.DOWNGRADE:
            return self._downgrade_problem(params)
        return ""

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
            try:
                value = getattr(value, part, None)
            except ObjectDoesNotExist:  # a reverse one-to-one with no row
                return None
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

    def renewal_stopped(self, instance: models.Model) -> bool:
        """Whether a cancellation at the period end is already recorded on ``instance`` (it is set
        to end; starting another cancellation is refused as "already cancelled").

        The default reads the mapped fields: ``cancel_at_period_end`` set, ``auto_renew`` off (or
        its related row missing), or, when it is the only such field, ``canceled_at`` set.
        Override it with ``stop_renewal`` when renewal lives elsewhere.
        """
        f = self.fields
        if f["cancel_at_period_end"] and self._read(instance, "cancel_at_period_end"):
            return True
        if f["auto_renew"] and not self._read(instance, "auto_renew"):
            return True
        return bool(
            f["canceled_at"]
            and not (f["cancel_at_period_end"] or f["auto_renew"])
            and self._read(instance, "canceled_at") is not None
        )

    @cached_property
    def plan_labels(self) -> dict[str, str]:
        """A plain plan field's choices, value -> label (empty for a foreign key or no choices):
        the customer reads the label ("Anytime"), offers name the value ("anytime")."""
        path = self.fields.get("plan")
        target = resolve_path(self.model, path).field if path else None
        if target is None or target.is_relation:
            return {}
        return {str(value): str(label) for value, label in getattr(target, "flatchoices", [])}

    def plan_name(self, plan: Any) -> str:
        """How the customer knows ``plan`` (a plan row, or a plain value)."""
        if plan is None:
            return ""
        return self.plan_labels.get(str(plan), str(plan))

    def describe(self, instance: models.Model) -> SubscriptionInfo:
        plan = self._read(instance, "plan")
        price = self._read(instance, "price")
        if price is None and plan is not None:
            price = getattr(plan, "price", None)
        return SubscriptionInfo(
            reference=self.reference_for(instance),
            plan=self.plan_name(plan),
            plan_code=str(getattr(plan, self.get_option("PLAN_LOOKUP_FIELD"), plan) or "")
            if plan is not None
            else "",
            price=Decimal(str(price)) if price is not None else None,
            currency=str(self._read(instance, "currency") or getattr(plan, "currency", "") or ""),
            interval=str(self._read(instance, "interval") or getattr(plan, "interval", "") or ""),
            started_at=_as_datetime(self._read(instance, "started_at")),
            current_period_end=_as_datetime(self._read(instance, "current_period_end")),
            is_active=self._is_active(instance),
            cancel_at_period_end=self.renewal_stopped(instance),
            country=self._read_text(instance, "country"),
            region=self._read_text(instance, "region"),
        )

    def _read_text(self, instance: models.Model, key: str) -> str:
        return str(self._read(instance, key) or "")

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

    def _target(self, instance: models.Model, key: str) -> tuple[models.Model | None, str]:
        """The object that holds ``key`` (the subscription, or the related object its path ends
        on) and the field's name there; the object is None when a relation on the way is empty."""
        path = self.fields.get(key) or ""
        *relations, name = path.split("__")
        obj: Any = instance
        for part in relations:
            try:
                obj = getattr(obj, part)
            except ObjectDoesNotExist:
                return None, name
            if obj is None:
                return None, name
        return obj, name

    def _set(
        self,
        instance: models.Model,
        key: str,
        value: Any,
        writes: _Writes,
        *,
        missing_ok: bool = False,
    ) -> None:
        """Write ``value`` into the field ``key`` maps to (through relations too), if mapped.

        A related object that does not exist is skipped when ``missing_ok`` (there is nothing to
        stop on it), else a permanent ``BackendError``.
        """
        if not self.fields.get(key):
            return
        if not self.writable(key):
            raise BackendError(
                f"SUBSCRIPTION_FIELDS[{key!r}] = {self.fields[key]!r} cannot be written (check "
                "graceful_cancel.E005).",
                transient=False,
            )
        obj, name = self._target(instance, key)
        if obj is None:
            if missing_ok:
                return
            raise BackendError(
                f"{self.model._meta.label} {instance.pk} has no related object for "
                f"SUBSCRIPTION_FIELDS[{key!r}] = {self.fields[key]!r}.",
                transient=False,
            )
        model_field = obj._meta.get_field(name)
        if _is_date_only(model_field) and isinstance(value, dt.datetime):
            value = timezone.localdate(value)
        setattr(obj, name, value)
        writes.add(obj, name)

    def stop_renewal(self, instance: models.Model, *, at_period_end: bool, case: Any) -> None:
        """Stop ``instance`` from renewing; called inside ``cancel()``'s transaction, with the row
        locked, after the subscription's own fields are written.

        The default writes the mapped fields: ``auto_renew=False`` and, for a cancellation at the
        period end, ``cancel_at_period_end=True`` (through relations too; a related row that does
        not exist has nothing to stop). Override it, with ``renewal_stopped`` and
        ``resume_renewal``, when renewal lives where no path reaches (docs/backends.md).
        """
        writes = _Writes()
        self._stop_renewal_fields(instance, at_period_end, writes)
        writes.save()

    def resume_renewal(self, instance: models.Model, *, case: Any) -> None:
        """Undo ``stop_renewal``; called inside ``reactivate()``'s transaction."""
        writes = _Writes()
        self._resume_renewal_fields(instance, writes)
        writes.save()

    def _stop_renewal_fields(
        self, instance: models.Model, at_period_end: bool, writes: _Writes
    ) -> None:
        if at_period_end:
            self._set(instance, "cancel_at_period_end", True, writes, missing_ok=True)
        self._set(instance, "auto_renew", False, writes, missing_ok=True)

    def _resume_renewal_fields(self, instance: models.Model, writes: _Writes) -> None:
        self._set(instance, "cancel_at_period_end", False, writes, missing_ok=True)
        self._set(instance, "auto_renew", True, writes)

    def cancel(self, reference: str, *, at_period_end: bool, case: Any) -> None:
        """At the period end: record it and stop the renewal, access stays until the period
        ends. At once (or when the shape cannot defer): end access now and stop the renewal."""
        with transaction.atomic():
            instance = self._locked(reference)
            deferred = at_period_end and self.capabilities().cancel_at_period_end
            writes = _Writes()
            self._set(instance, "canceled_at", timezone.now(), writes)
            if not deferred:
                self._end_access(instance, writes)
            if self._overrides("stop_renewal"):
                writes.save()
                self.stop_renewal(instance, at_period_end=deferred, case=case)
            else:  # the mapped fields, in the same UPDATE as the rest
                self._stop_renewal_fields(instance, deferred, writes)
                writes.save()

    def _end_access(self, instance: models.Model, writes: _Writes) -> None:
        f = self.fields
        self._set(instance, "status", self.get_option("SUBSCRIPTION_CANCELED_STATUS"), writes)
        self._set(instance, "active", False, writes)
        if not (f["status"] or f["active"]):
            # Only an expiry date says whether it is active: it expires now.
            self._set(instance, "current_period_end", timezone.now(), writes)

    def reactivate(self, reference: str, *, case: Any) -> None:
        with transaction.atomic():
            instance = self._locked(reference)
            writes = _Writes()
            self._set(instance, "canceled_at", None, writes)
            if self.fields["status"] and self._read(instance, "status") not in self.active_statuses:
                # Ended at once: back to the first active status. A cancellation at the period
                # end never changed it, so a trial comes back a trial.
                self._set(instance, "status", self.active_statuses[0], writes)
            self._set(instance, "active", True, writes)
            if self._overrides("resume_renewal"):
                writes.save()
                self.resume_renewal(instance, case=case)
            else:
                self._resume_renewal_fields(instance, writes)
                writes.save()

    # --- returns (docs/returns.md) ------------------------------------------------------------

    def resubscribe_url(self) -> str:
        """``RESUBSCRIBE_URL`` as a path (a URL name is reversed), or ""."""
        value = str(self.get_option("RESUBSCRIBE_URL") or "")
        if not value:
            return ""
        try:
            return reverse(value)
        except NoReverseMatch:
            return value

    def resubscribe_quote(self, case: Any, *, offer: Any = None) -> ResubscribeQuote | None:
        """The ended subscription's plan and price (read again from the row, else the case's
        snapshot), charged from now; None when no price is known."""
        try:
            info = self.get_subscription(case.subscription_ref) if case.subscription_ref else None
        except BackendError:
            info = None
        price = info.price if info and info.price is not None else case.price
        if price is None:
            return None
        currency = (info.currency if info else "") or case.currency
        offer_amount = discounted_price(offer, Decimal(price)) if offer is not None else None
        return ResubscribeQuote(
            plan=(info.plan if info else "") or case.plan,
            plan_code=(info.plan_code if info else "") or case.plan_code,
            amount=Decimal(price),
            currency=currency,
            interval=(info.interval if info else "") or case.billing_interval,
            first_charge_at=timezone.now(),
            offer_amount=offer_amount,
            offer_periods=int((offer.parameters or {}).get("duration_months") or 1) if offer else 1,
            # Without a hook the customer signs up on the site's RESUBSCRIBE_URL page: nothing
            # is charged here, so the page must not promise a charge "today when you confirm".
            needs_checkout=not self.get_option("RESUBSCRIBE_HOOK"),
            # That page is the site's sign-up page, not a payment provider's checkout: the
            # come-back page words it so (returns/confirm.html).
            extra={"signup_page": not self.get_option("RESUBSCRIBE_HOOK")},
        )

    def resubscribe(
        self,
        case: Any,
        *,
        quote: ResubscribeQuote,
        offer: Any,
        idempotency_key: str,
        return_url: str,
    ) -> ResubscribeResult:
        """``RESUBSCRIBE_HOOK`` subscribes them (in the caller's transaction); else the customer
        goes to ``RESUBSCRIBE_URL`` (``?case=<reference>``), and the site calls
        ``services.complete_return`` once they signed up."""
        hook = self.get_option("RESUBSCRIBE_HOOK")
        if hook:
            reference = import_string(hook)(
                case=case, quote=quote, offer=offer, idempotency_key=idempotency_key
            )
            return ResubscribeResult(method="hook", reference=str(reference or ""))
        url = self.resubscribe_url()
        if not url:
            raise BackendError(
                "The model backend has no RESUBSCRIBE_HOOK nor RESUBSCRIBE_URL.",
                code="resubscribe_unavailable",
                transient=False,
            )
        separator = "&" if "?" in url else "?"
        return ResubscribeResult(
            method="redirect", redirect_url=f"{url}{separator}case={case.reference}"
        )

    # --- offers ------------------------------------------------------------------------------

    @staticmethod
    def _offer_days(params: dict[str, Any]) -> int:
        """The days a pause or an extension lasts ("days", else 30 per "months"); 0 if invalid."""
        try:
            days = int(params.get("days") or 30 * int(params.get("months") or 1))
        except (TypeError, ValueError):
            return 0
        return days if days > 0 else 0

    def apply_offer(self, reference: str, offer: Any, *, case: Any) -> dict[str, Any]:
        """Pause and extension move the period end (a pause also sets ``paused_until``); a
        downgrade changes the plan, and the price when ``price`` is a field of the subscription.
        Anything else is refused: it is not offered unless the site routes it (``can_apply``)."""
        params = offer.parameters if isinstance(offer.parameters, dict) else {}
        with transaction.atomic():
            instance = self._locked(reference)
            writes = _Writes()
            result: dict[str, Any] = {"kind": offer.kind}
            if (
                offer.kind in (OfferKind.PAUSE, OfferKind.EXTENSION)
                and self.fields["current_period_end"]
            ):
                result.update(self._extend(instance, offer.kind, params, writes))
            elif offer.kind == OfferKind.DOWNGRADE and self.fields["plan"]:
                result.update(self._downgrade(instance, params, writes))
            else:
                raise BackendError(
                    f"The model backend does not apply {offer.kind!r} offers as configured.",
                    code="offer_not_applicable",
                    transient=False,
                )
            writes.save()
            return result

    def _extend(
        self, instance: models.Model, kind: str, params: dict[str, Any], writes: _Writes
    ) -> dict[str, Any]:
        days = self._offer_days(params)
        end = _as_datetime(self._read(instance, "current_period_end"))
        if not days or end is None:
            raise BackendError(
                f"No period end to move, or no number of days, for this {kind} offer.",
                code="offer_not_applicable",
                transient=False,
            )
        new_end = end + dt.timedelta(days=days)
        self._set(instance, "current_period_end", new_end, writes)
        result = {"current_period_end": new_end.isoformat()}
        if kind == OfferKind.PAUSE:
            until = timezone.now() + dt.timedelta(days=days)
            self._set(instance, "paused_until", until, writes, missing_ok=True)
            result["paused_until"] = until.isoformat()
        return result

    # --- pauses (docs/pause.md) ---------------------------------------------------------------

    def _move_pause(
        self, reference: str, shift: dt.timedelta, paused_until: dt.datetime | None
    ) -> dict[str, Any]:
        """Move the period end by ``shift`` and write ``paused_until`` (None clears it)."""
        with transaction.atomic():
            instance = self._locked(reference)
            end = _as_datetime(self._read(instance, "current_period_end"))
            if end is None or not self.writable("current_period_end"):
                raise BackendError(
                    "No period end to move for this pause.",
                    code="pause_not_applicable",
                    transient=False,
                )
            writes = _Writes()
            new_end = end + shift
            self._set(instance, "current_period_end", new_end, writes)
            self._set(instance, "paused_until", paused_until, writes, missing_ok=True)
            writes.save()
            return {"current_period_end": new_end.isoformat()}

    def resume_pause(self, reference: str, *, case: Any, pause: Any) -> dict[str, Any]:
        """The pause moved the period end by its length: resuming early gives back the days not
        used, so the next charge comes that much sooner."""
        unused = max(pause.ends_at - timezone.now(), dt.timedelta(0))
        return self._move_pause(reference, -unused, None)

    def extend_pause(
        self, reference: str, *, case: Any, pause: Any, ends_at: dt.datetime
    ) -> dict[str, Any]:
        return self._move_pause(reference, ends_at - pause.ends_at, ends_at)

    def finish_pause(self, reference: str, *, case: Any, pause: Any) -> dict[str, Any]:
        """The period end already counts the pause: only ``paused_until`` is cleared."""
        with transaction.atomic():
            instance = self._locked(reference)
            writes = _Writes()
            self._set(instance, "paused_until", None, writes, missing_ok=True)
            writes.save()
        return {}

    def _downgrade_target(self, params: dict[str, Any]) -> tuple[Any, Decimal | None]:
        """The plan a downgrade offer moves to (a plan row, or a plain value) and the price to
        write with it (None when ``price`` is not a field of the subscription itself).

        Raises a permanent ``BackendError`` when the offer cannot be applied as configured.
        """
        plan_path = self.fields["plan"]
        code = params.get("plan")
        if not plan_path or code in (None, ""):
            raise BackendError(
                'a downgrade needs SUBSCRIPTION_FIELDS["plan"] and the offer\'s "plan" parameter',
                code="offer_not_applicable",
                transient=False,
            )
        plan_field = resolve_path(self.model, plan_path).field
        related = getattr(plan_field, "related_model", None) if plan_field is not None else None
        target: Any
        if isinstance(related, type) and issubclass(related, models.Model):
            lookup = self.get_option("PLAN_LOOKUP_FIELD")
            try:
                target = related._default_manager.get(**{lookup: code})
            except (ObjectDoesNotExist, MultipleObjectsReturned) as exc:
                raise BackendError(
                    f"no single {related._meta.label} with {lookup}={code!r} to move to",
                    code="offer_not_applicable",
                    transient=False,
                ) from exc
            except (FieldError, ValueError, ValidationError) as exc:
                raise BackendError(
                    f"PLAN_LOOKUP_FIELD {lookup!r} cannot find a {related._meta.label}: {exc}",
                    code="offer_not_applicable",
                    transient=False,
                ) from exc
        else:
            choices = [str(value) for value, _label in getattr(plan_field, "flatchoices", [])]
            if choices and str(code) not in choices:
                raise BackendError(
                    f"{code!r} is not one of the plan field's choices",
                    code="offer_not_applicable",
                    transient=False,
                )
            target = code
        return target, self._downgrade_price(target, params)

    def _downgrade_problem(self, params: dict[str, Any]) -> str:
        try:
            target, _price = self._downgrade_target(params)
            self._price_row_for(None, target)
        except BackendError as error:
            return str(error)
        return ""

    def _downgrade_price(self, target: Any, params: dict[str, Any]) -> Decimal | None:
        price_path = self.fields["price"]
        if not price_path or "__" in price_path:
            return None  # read through the plan (or not at all): it follows the plan
        resolved = resolve_path(self.model, price_path)
        if resolved.field is None or not getattr(resolved.field, "concrete", False):
            return None
        raw = params.get("price", getattr(target, "price", None))
        try:
            return Decimal(str(raw)) if raw not in (None, "") else _missing_price()
        except InvalidOperation:
            return _missing_price()

    @cached_property
    def price_rows(self) -> PriceRows | None:
        """The price table, when the price is read through a foreign key of the subscription to
        rows that belong to plans (``"price": "price__amount"``, ``Price.plan``): a downgrade
        then moves that key to the target plan's row with the same currency and interval (those
        mapped through the same key). None for any other shape."""
        price_path, plan_path = self.fields.get("price"), self.fields.get("plan")
        if not price_path or not plan_path or "__" in plan_path:
            return None
        key, _, rest = price_path.partition("__")
        if not rest or "__" in rest or key == plan_path:
            return None
        try:
            link = self.model._meta.get_field(key)
            plan_field = self.model._meta.get_field(plan_path)
        except FieldDoesNotExist:
            return None
        table, plans = link.related_model, plan_field.related_model
        if not (link.many_to_one and isinstance(table, type) and isinstance(plans, type)):
            return None
        owners = [
            f.name
            for f in table._meta.get_fields()
            if f.many_to_one and f.concrete and f.related_model is plans
        ]
        if len(owners) != 1:
            return None
        same = tuple(
            path.partition("__")[2]
            for other in ("currency", "interval")
            if (path := self.fields.get(other)) and path.partition("__")[0] == key
        )
        return PriceRows(key=key, table=table, plan=owners[0], amount=rest, same=same)

    def _price_row_for(self, instance: models.Model | None, target: Any) -> models.Model | None:
        """The target plan's price row with ``instance``'s currency and interval; with no
        instance (``can_apply``), any row of the plan. None when there is no price table; a
        permanent ``BackendError`` when the plan has no such row."""
        rows = self.price_rows
        if rows is None:
            return None
        found = rows.table._default_manager.filter(**{rows.plan: target})
        if instance is None:
            row = found.first()
        else:
            current = getattr(instance, rows.key, None)
            found = found.filter(**{name: getattr(current, name, None) for name in rows.same})
            row = found.first() if found.count() == 1 else None
        if row is None:
            raise BackendError(
                f"no single {rows.table._meta.label} of the plan {target}"
                + (f" with this subscription's {' and '.join(rows.same)}" if rows.same else ""),
                code="offer_not_applicable",
                transient=False,
            )
        return row

    def _downgrade(
        self, instance: models.Model, params: dict[str, Any], writes: _Writes
    ) -> dict[str, Any]:
        target, price = self._downgrade_target(params)
        row = self._price_row_for(instance, target)
        self._set(instance, "plan", target, writes)
        result: dict[str, Any] = {"plan": self.plan_name(target)}
        if row is not None and self.price_rows is not None:
            # The subscription's own key to the price table moves; the shared row does not.
            setattr(instance, self.price_rows.key, row)
            writes.add(instance, self.price_rows.key)
            result["price"] = str(getattr(row, self.price_rows.amount, ""))
        if price is not None:
            self._set(instance, "price", price, writes)
            result["price"] = str(price)
        return result


def _missing_price() -> Decimal:
    raise BackendError(
        'the subscription keeps its own price: give the offer a "price" parameter, or the plan a '
        '"price"',
        code="offer_not_applicable",
        transient=False,
    )


def discounted_price(offer: Any, amount: Decimal) -> Decimal:
    """A win-back discount's first charge: its ``"price"``, else ``amount`` less its
    ``"percent_off"``; a permanent ``BackendError`` when it names neither."""
    params = offer.parameters if isinstance(offer.parameters, dict) else {}
    try:
        if params.get("price") not in (None, ""):
            return Decimal(str(params["price"])).quantize(Decimal("0.01"))
        if params.get("percent_off") not in (None, ""):
            off = Decimal(str(params["percent_off"]))
            return (amount * (Decimal(100) - off) / Decimal(100)).quantize(Decimal("0.01"))
    except InvalidOperation:
        pass
    raise BackendError(
        'a win-back discount needs a "price" or a "percent_off"',
        code="offer_not_applicable",
        transient=False,
    )
