"""Who applies an accepted offer: the subscription backend, the site's hook, or staff.

An offer is a promise, so it is shown only when one of these will keep it (docs/backends.md,
"Offers"):

* **the backend** applies the offer itself (``backend.can_apply(offer)``: the kinds in its
  ``capabilities().offer_kinds`` whose parameters it can use);
* otherwise the site's route for the offer's kind, ``GRACEFUL_CANCEL["OFFER_FULFILMENT"]``:

  - a **hook**, the dotted path of ``hook(*, case, offer) -> dict | None``, called inside the
    transaction that saves the case; it raises to refuse (``BackendError``, with
    ``transient=False`` when a retry cannot help; anything else counts as a refusal too);
  - **staff**: ``"staff"`` or ``{"route": "staff", "due_business_days": 5}``: a
    ``FulfilmentTask`` for the desk, due that many business days later (Monday to Friday, in the
    site's time zone), created in the same transaction; the customer is told who applies it and
    by when.

The policy asks ``route_for`` (it only reads); ``accept_offer`` calls ``fulfil``; staff close
tasks with ``mark_fulfilment_done``. The system checks here report a malformed route (``E003``/``E004``),
an active offer nobody would apply (``W010``) and an offer the backend cannot apply as configured
(``W011``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string

from .. import signals
from ..backends import get_backend
from ..choices import EventKind, FulfilmentStatus, OfferKind, OfferOutcome
from ..conf import SETTINGS_NAME, app_settings
from ..exceptions import BackendError, InvalidTransition, OfferNotApplicable
from ..models import CancellationCase, FulfilmentTask, OfferPresentation, RetentionOffer
from .core import Actor, lock_case, record

logger = logging.getLogger("django_graceful_cancel")

#: The route value that makes a desk task for staff.
STAFF = "staff"
#: Business days staff have to apply an offer when the route does not say.
DEFAULT_DUE_BUSINESS_DAYS = 2
#: How ``applied["applied_by"]`` names each route (``"stripe"``... for a backend's own).
BY_HOOK, BY_STAFF = "hook", "staff"

DOCS = "docs/backends.md"


@dataclass(frozen=True)
class Route:
    """How one accepted offer is applied: ``via`` is "backend", "hook" or "staff"."""

    via: str
    #: The hook's dotted path (``via="hook"``).
    hook: str = ""
    #: Business days staff have (``via="staff"``).
    due_business_days: int = 0


BACKEND = Route("backend")


# --- routes ------------------------------------------------------------------------------------


def parse_route(value: Any) -> Route | str:
    """The ``Route`` an ``OFFER_FULFILMENT`` value describes, or why it describes none."""
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"route", "due_business_days"})
        if unknown:
            return f'unknown keys {unknown}; a route dict takes "route" and "due_business_days"'
        days = value.get("due_business_days", DEFAULT_DUE_BUSINESS_DAYS)
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            return '"due_business_days" must be a whole number, 0 or more'
        inner = parse_route(value.get("route"))
        if isinstance(inner, Route) and inner.via == BY_STAFF:
            return Route(BY_STAFF, due_business_days=days)
        if "due_business_days" in value and isinstance(inner, Route):
            return '"due_business_days" applies to the "staff" route only'
        return inner
    if value == STAFF:
        return Route(BY_STAFF, due_business_days=DEFAULT_DUE_BUSINESS_DAYS)
    if isinstance(value, str) and "." in value:
        return Route(BY_HOOK, hook=value)
    return '"staff", {"route": "staff", "due_business_days": N} or a hook\'s dotted path'


def configured_routes() -> dict[str, Route]:
    """``OFFER_FULFILMENT`` as routes by offer kind; malformed entries are left out (the system
    check reports them)."""
    raw = app_settings.OFFER_FULFILMENT
    if not isinstance(raw, Mapping):
        return {}
    routes = {}
    for kind, value in raw.items():
        route = parse_route(value)
        if isinstance(route, Route):
            routes[str(kind)] = route
    return routes


def backend_applies(backend: Any, offer: RetentionOffer) -> bool:
    """Whether the backend applies ``offer`` itself; a backend that predates capabilities (no
    ``can_apply``) applies nothing it has not declared."""
    can_apply = getattr(backend, "can_apply", None)
    return bool(can_apply(offer)) if callable(can_apply) else False


def route_for(offer: RetentionOffer, *, backend: Any = None) -> Route | None:
    """How ``offer`` would be applied if accepted now, or None when nobody would apply it (it
    must not be shown). Reads only."""
    backend = backend if backend is not None else get_backend()
    if backend_applies(backend, offer):
        return BACKEND
    return configured_routes().get(offer.kind)


def expected_route(offer: RetentionOffer, *, backend: Any = None) -> Route | None:
    """How ``offer`` will be applied if accepted, by its kind alone (no database read): for
    telling the customer beforehand. ``route_for`` is the full test the policy uses."""
    backend = backend if backend is not None else get_backend()
    capabilities = getattr(backend, "capabilities", None)
    if callable(capabilities) and capabilities().applies(offer.kind):
        return BACKEND
    return configured_routes().get(offer.kind)


@dataclass(frozen=True)
class Promise:
    """What the customer is told about who applies an offer a person applies (``via="staff"``).

    Built from an accepted presentation's ``applied`` (``due_at`` set) or, before the answer,
    from the offer's route (``due_at`` None).
    """

    due_business_days: int
    due_at: datetime | None = None


def promise_for(presentation: OfferPresentation) -> Promise | None:
    """The staff promise of this presentation, or None when the backend or the site's hook
    applies the offer at once. Reads ``applied`` for an accepted offer, the route otherwise."""
    applied = presentation.applied if isinstance(presentation.applied, dict) else {}
    if presentation.outcome == OfferOutcome.ACCEPTED:
        if applied.get("applied_by") != BY_STAFF:
            return None
        due = applied.get("due_at")
        return Promise(
            due_business_days=int(applied.get("due_business_days") or 0),
            due_at=parse_datetime(due) if isinstance(due, str) else None,
        )
    route = expected_route(presentation.offer)
    if route is None or route.via != BY_STAFF:
        return None
    return Promise(due_business_days=route.due_business_days)


def add_business_days(start: datetime, days: int) -> datetime:
    """``days`` working days (Monday to Friday) after ``start``, at the same local time.

    Counted in the site's time zone (``TIME_ZONE``). A start on a weekend counts from Monday's
    first minute: two business days from a Saturday end on Tuesday night. Public holidays are not
    known here; give staff a day more where they matter.
    """
    local = timezone.localtime(start)
    while local.weekday() >= 5:
        local = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    left = days
    while left > 0:
        local += timedelta(days=1)
        if local.weekday() < 5:
            left -= 1
    return local


# --- applying an accepted offer (called by services.cases.accept_offer) ------------------------


def fulfil(
    case: CancellationCase,
    presentation: OfferPresentation,
    *,
    backend: Any = None,
    actor: Actor = None,
) -> dict[str, Any]:
    """Apply the accepted ``presentation`` by its route, inside the caller's transaction; return
    what was done (stored as ``presentation.applied``).

    Raises ``BackendError`` (the backend or hook failed; ``transient`` says whether a retry may
    help) or ``OfferNotApplicable`` (nobody applies this offer any more: the site's routes
    changed since it was shown).
    """
    backend = backend if backend is not None else get_backend()
    offer = presentation.offer
    route = route_for(offer, backend=backend)
    if route is None:
        raise OfferNotApplicable()
    if route.via == "backend":
        return backend.apply_offer(case.subscription_ref, offer, case=case) or {}
    if route.via == BY_HOOK:
        return {"kind": offer.kind, "applied_by": BY_HOOK, **_call_hook(route.hook, case, offer)}
    return _desk_task(case, presentation, route, actor=actor)


def _call_hook(path: str, case: CancellationCase, offer: RetentionOffer) -> dict[str, Any]:
    try:
        hook: Callable[..., Any] = import_string(path)
    except ImportError as exc:
        logger.error("OFFER_FULFILMENT hook %s cannot be imported: %s", path, exc)
        raise OfferNotApplicable() from exc
    try:
        result = hook(case=case, offer=offer)
    except BackendError:
        raise
    except Exception as exc:
        # A refusal, or a bug in the hook: either way the customer must not see a 500, and
        # nothing was promised. The traceback goes to the log for the site's developers.
        logger.exception("OFFER_FULFILMENT hook %s refused offer %s", path, offer.slug)
        raise OfferNotApplicable() from exc
    return dict(result) if isinstance(result, Mapping) else {}


def _desk_task(
    case: CancellationCase, presentation: OfferPresentation, route: Route, *, actor: Actor
) -> dict[str, Any]:
    due_at = add_business_days(timezone.now(), route.due_business_days)
    task = FulfilmentTask.objects.create(
        case=case,
        presentation=presentation,
        offer=presentation.offer,
        due_at=due_at,
        owner=case.owner,
    )
    return {
        "kind": presentation.offer.kind,
        "applied_by": BY_STAFF,
        "task": task.pk,
        "due_at": due_at.isoformat(),
        "due_business_days": route.due_business_days,
    }


# --- the desk ----------------------------------------------------------------------------------


def _lock_task(task: FulfilmentTask | int) -> tuple[FulfilmentTask, CancellationCase]:
    pk = task.pk if isinstance(task, FulfilmentTask) else task
    locked = FulfilmentTask.objects.select_for_update().select_related("offer").get(pk=pk)
    return locked, lock_case(locked.case_id)


def mark_fulfilment_done(
    task: FulfilmentTask | int, *, actor: Actor, note: str = ""
) -> FulfilmentTask:
    """Staff applied the offer: close the task (timeline event ``fulfilment_done``, signal
    ``offer_fulfilled``). Raises ``InvalidTransition("fulfilment_already_done")`` for a task
    already closed."""
    with transaction.atomic():
        task, case = _lock_task(task)
        if task.status != FulfilmentStatus.OPEN:
            raise InvalidTransition(code="fulfilment_already_done")
        now = timezone.now()
        task.status = FulfilmentStatus.DONE
        task.done_at = now
        task.done_by = actor if getattr(actor, "pk", None) else None
        if note.strip():
            task.note = note.strip()[:5000]
        task.save(update_fields=["status", "done_at", "done_by", "note"])
        record(
            case,
            EventKind.FULFILMENT_DONE,
            signals.offer_fulfilled,
            actor=actor,
            data={
                "task": task.pk,
                "offer": task.offer.slug,
                "late": now > task.due_at,
                "note": task.note[:500],
            },
            task=task,
        )
    return task


def assign_fulfilment_task(
    task: FulfilmentTask | int, owner: Any, *, actor: Actor
) -> FulfilmentTask:
    """Give an open task to a staff member (``owner=None`` releases it)."""
    if owner is not None and not getattr(owner, "is_staff", False):
        raise InvalidTransition(code="owner_not_staff")
    with transaction.atomic():
        task, case = _lock_task(task)
        if task.status != FulfilmentStatus.OPEN:
            raise InvalidTransition(code="fulfilment_already_done")
        task.owner = owner
        task.save(update_fields=["owner"])
        record(
            case,
            EventKind.FULFILMENT_ASSIGNED,
            signals.fulfilment_assigned,
            actor=actor,
            data={
                "task": task.pk,
                "owner": owner.get_username() if owner is not None else None,
            },
            task=task,
            owner=owner,
        )
    return task


# --- system checks (registered in checks.py) ---------------------------------------------------


def check_routes() -> list[CheckMessage]:
    """E003 for a malformed ``OFFER_FULFILMENT``, E004 for a hook that cannot be imported."""
    raw = app_settings.user_settings.get("OFFER_FULFILMENT", {})
    hint = f"See {DOCS} (Offers)."
    if not isinstance(raw, Mapping):
        return [
            Error(
                f"{SETTINGS_NAME}['OFFER_FULFILMENT'] is {raw!r}; expected a dict of offer kind "
                "-> route.",
                hint=hint,
                id="graceful_cancel.E003",
            )
        ]
    messages: list[CheckMessage] = []
    for kind, value in raw.items():
        where = f"{SETTINGS_NAME}['OFFER_FULFILMENT'][{kind!r}]"
        if kind not in OfferKind.values:
            messages.append(
                Error(
                    f"{where}: {kind!r} is not an offer kind.",
                    hint=f"Offer kinds: {', '.join(OfferKind.values)}. {hint}",
                    id="graceful_cancel.E003",
                )
            )
            continue
        route = parse_route(value)
        if isinstance(route, str):
            messages.append(
                Error(
                    f"{where} is {value!r}; expected {route}.", hint=hint, id="graceful_cancel.E003"
                )
            )
        elif route.via == BY_HOOK:
            try:
                hook = import_string(route.hook)
            except ImportError as exc:
                messages.append(
                    Error(
                        f"{where} = {route.hook!r} cannot be imported: {exc}",
                        hint=hint,
                        id="graceful_cancel.E004",
                    )
                )
            else:
                if not callable(hook):
                    messages.append(
                        Error(
                            f"{where} = {route.hook!r} is not callable.",
                            hint=hint,
                            id="graceful_cancel.E003",
                        )
                    )
    return messages


def check_catalogue() -> list[CheckMessage]:
    """W010 for each active offer nobody would apply, W011 (from the backend) for each offer the
    backend cannot apply as configured. Reads the catalogue: says nothing while the tables do not
    exist yet (before ``migrate``) or the database cannot be reached."""
    try:
        backend = get_backend()
    except (ImportError, ImproperlyConfigured, TypeError):
        return []  # the settings checks report the backend itself
    try:
        offers = list(RetentionOffer.objects.filter(is_active=True).order_by("order", "slug"))
        messages: list[CheckMessage] = []
        routes = configured_routes()
        for offer in offers:
            problems = list(getattr(backend, "offer_problems", lambda o: [])(offer))
            if problems:
                messages.extend(problems)
            elif not backend_applies(backend, offer) and offer.kind not in routes:
                messages.append(_no_route(offer, backend))
    except (DatabaseError, ImproperlyConfigured):
        return []
    return messages


def _no_route(offer: RetentionOffer, backend: Any) -> CheckMessage:
    return Warning(
        f"Nobody applies the active offer {offer.slug!r} ({offer.kind}): "
        f"{type(backend).__qualname__} does not, and OFFER_FULFILMENT has no route for "
        f"{offer.kind!r}. It is never shown.",
        hint=f"Add {SETTINGS_NAME}['OFFER_FULFILMENT'][{offer.kind!r}] = \"staff\" (a desk task) "
        "or a hook's dotted path, or deactivate the offer. See docs/backends.md (Offers).",
        obj=offer,
        id="graceful_cancel.W010",
    )
