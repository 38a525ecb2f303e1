"""The catalogue read from memory: reasons, offers, message templates, experiments, endpoints.

Each part is loaded once per process in one query and kept until it changes (the rules are in
``catalogue_memory``, which holds the memory and its invalidation). The instances handed out are
shared: read them, never change them.
"""

from __future__ import annotations

from typing import Any

from .catalogue_memory import CatalogueManager, cached, invalidate, invalidate_local

__all__ = [
    "CatalogueManager",
    "active_endpoints",
    "active_reason",
    "active_reasons",
    "cached",
    "connect_signals",
    "experiments",
    "invalidate",
    "invalidate_local",
    "message_template",
    "offers_for",
]


# --- the parts --------------------------------------------------------------------------------


def active_reasons() -> dict[str, Any]:
    """The active reasons by slug."""
    from .catalogue import Reason

    return cached(
        "reasons",
        lambda: {reason.slug: reason for reason in Reason.objects.filter(is_active=True)},
    )


def active_reason(slug: str) -> Any:
    """The active reason with this slug, or None."""
    return active_reasons().get(slug)


def offers_for(reason_id: int) -> list[Any]:
    """The active offers that fit the reason, in the catalogue's order ("order", then pk)."""
    from .catalogue import RetentionOffer

    def load() -> dict[int, list[Any]]:
        by_reason: dict[int, list[Any]] = {}
        offers = {
            offer.pk: offer
            for offer in RetentionOffer.objects.filter(is_active=True).order_by("order", "pk")
        }
        links = RetentionOffer.reasons.through.objects.filter(retentionoffer_id__in=list(offers))
        for offer_id, linked_reason in links.values_list("retentionoffer_id", "reason_id"):
            by_reason.setdefault(linked_reason, []).append(offers[offer_id])
        order = {pk: index for index, pk in enumerate(offers)}
        for found in by_reason.values():
            found.sort(key=lambda offer: order[offer.pk])
        return by_reason

    return cached("offers", load).get(reason_id, [])


def message_template(reason_id: int | None, stage: str, channel: str, languages: list[str]) -> Any:
    """The active message template for the first of ``languages`` that has one, or None."""
    from .catalogue import MessageTemplate

    def load() -> dict[tuple[int | None, str, str, str], Any]:
        return {
            (t.reason_id, t.stage, t.channel, t.language): t
            for t in MessageTemplate.objects.filter(is_active=True)
        }

    templates = cached("templates", load)
    for language in languages:
        found = templates.get((reason_id, stage, channel, language))
        if found is not None:
            return found
    return None


def experiments() -> list[tuple[Any, list[Any]]]:
    """Every offer experiment (active or not), newest first, each with its variants whose offer
    is active. Empty when the site runs none: then no case can have an arm stored."""
    from .desk import OfferExperiment

    def load() -> list[tuple[Any, list[Any]]]:
        return [
            (
                experiment,
                [v for v in experiment.variants.all() if v.offer.is_active],
            )
            for experiment in OfferExperiment.objects.order_by("-created_at").prefetch_related(
                "variants__offer"
            )
        ]

    return cached("experiments", load)


def active_endpoints() -> list[Any]:
    """The active outbound webhook endpoints, by primary key."""
    from .webhooks import WebhookEndpoint

    return cached(
        "endpoints", lambda: list(WebhookEndpoint.objects.filter(active=True).order_by("pk"))
    )


def connect_signals() -> None:
    """Drop the cache whenever a catalogue row changes (called once, from ``models``)."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from .catalogue import MessageTemplate, Reason, RetentionOffer
    from .desk import ExperimentVariant, OfferExperiment
    from .webhooks import WebhookEndpoint

    for model in (
        Reason,
        RetentionOffer,
        MessageTemplate,
        OfferExperiment,
        ExperimentVariant,
        WebhookEndpoint,
    ):
        uid = f"graceful_cancel_catalogue_{model.__name__}"
        post_save.connect(invalidate, sender=model, dispatch_uid=uid + "_save")
        post_delete.connect(invalidate, sender=model, dispatch_uid=uid + "_delete")
    m2m_changed.connect(
        invalidate,
        sender=RetentionOffer.reasons.through,
        dispatch_uid="graceful_cancel_catalogue_offer_reasons",
    )
