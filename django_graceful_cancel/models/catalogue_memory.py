"""The memory behind the cached catalogue (``catalogue_cache``): its parts, their invalidation
and the manager whose bulk changes invalidate them. No model is imported here, so the catalogue's
models can use the manager.

The catalogue read from memory: reasons, offers, message templates, experiments, endpoints.

Every step of the flow reads the catalogue (the stated reason, the offers that fit it, the copy
of the message, the active experiment, the webhook endpoints an event goes to), and staff change
it rarely. Reading it from the database on every request was a third of the round trips of a
step (issue 19), so each part is loaded once per process, in one query, and kept until it
changes:

* any change through the ORM (``save``, ``delete``, a queryset's ``update``/``delete``/
  ``bulk_create``/``bulk_update``, an offer's ``reasons`` changing) drops the part at once and
  again when the transaction commits, so no request can keep a copy read between the two;
* other processes see the change through a generation number kept in Django's cache (shared
  with a Redis or Memcached cache; per process with the local-memory cache), checked at most
  once a second, and at the latest after ``MAX_AGE`` seconds whatever the cache.

The instances handed out are shared: read them, never change them (an edit goes through the
admin or the ORM, which reload their own rows). A change made with raw SQL behind the ORM's back
is seen after ``MAX_AGE``, or at once after ``invalidate()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import models, transaction

#: Seconds a process keeps a part without asking whether it changed elsewhere.
CHECK_EVERY = 1.0
#: Seconds after which a part is reloaded whatever the cache says (raw SQL, a local cache).
MAX_AGE = 60.0
GENERATION_KEY = "graceful_cancel:catalogue:generation"

T = TypeVar("T")

_lock = threading.Lock()
_parts: dict[str, tuple[float, Any]] = {}
_state: dict[str, Any] = {"generation": None, "checked": 0.0}


def _shared_generation() -> Any:
    try:
        return cache.get(GENERATION_KEY)
    except Exception:  # noqa: BLE001 - a cache that is down must not break a customer's step
        return None


def _bump_shared_generation() -> None:
    generation = time.time_ns()
    try:
        cache.set(GENERATION_KEY, generation, None)
    except Exception:  # noqa: BLE001 - other processes then catch up after MAX_AGE
        return
    # This process dropped its parts already: its own bump must not drop them again.
    _state["generation"] = generation


def invalidate_local() -> None:
    """Forget the cached parts in this process only (a test's rolled-back rows, say)."""
    with _lock:
        _parts.clear()


_drop_local = invalidate_local


#: The parts a change of each model can make wrong (by model name); any other: all of them.
PARTS_OF = {
    "Reason": ("reasons", "offers", "templates", "experiments"),
    "RetentionOffer": ("offers", "experiments"),
    "MessageTemplate": ("templates",),
    "OfferExperiment": ("experiments",),
    "ExperimentVariant": ("experiments",),
    "WebhookEndpoint": ("endpoints",),
}


def _drop(parts: tuple[str, ...] | None) -> None:
    with _lock:
        if parts is None:
            _parts.clear()
        else:
            for part in parts:
                _parts.pop(part, None)


def invalidate(sender: Any = None, **kwargs: Any) -> None:
    """Forget the cached parts ``sender`` (a catalogue model) feeds, or all of them, here at
    once and in other processes through the cache (which forget all their parts).

    Connected to the catalogue models' signals; safe to call at any time (also as a receiver).
    """
    model = getattr(sender, "__name__", "")
    if model.endswith("_reasons"):  # the offers' reasons (m2m_changed's sender)
        model = "RetentionOffer"
    parts = PARTS_OF.get(model)
    _drop(parts)
    _bump_shared_generation()
    # A reader between this change and its commit would have cached the old rows again.
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _drop(parts), robust=True)


def cached(part: str, load: Callable[[], T]) -> T:
    """The part called ``part``, loaded with ``load()`` when missing, stale or changed."""
    now = time.monotonic()
    if now - _state["checked"] >= CHECK_EVERY:
        generation = _shared_generation()
        _state["checked"] = now
        # None: nobody changed the catalogue since the cache was (re)started.
        if generation is not None and generation != _state["generation"]:
            _state["generation"] = generation
            _drop_local()
    found = _parts.get(part)
    if found is not None and now - found[0] < MAX_AGE:
        return found[1]
    value = load()
    with _lock:
        _parts[part] = (now, value)
    return value


class CatalogueQuerySet(models.QuerySet):
    """A queryset whose bulk changes drop the cached catalogue (signals do not cover them)."""

    def update(self, **kwargs: Any) -> int:
        count = super().update(**kwargs)
        invalidate(self.model)
        return count

    def delete(self) -> tuple[int, dict[str, int]]:
        deleted = super().delete()
        invalidate(self.model)
        return deleted

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[Any]:
        created = super().bulk_create(*args, **kwargs)
        invalidate(self.model)
        return created

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        count = super().bulk_update(*args, **kwargs)
        invalidate(self.model)
        return count


CatalogueManager = models.Manager.from_queryset(CatalogueQuerySet)
