"""Demo customers, plans and a realistic history of past cancellation cases.

``--cases 1000000`` generates a million historical cases with bulk inserts, for the admin and
dashboard scale measurements. History is seeded directly (it is synthetic data about the past);
everything a customer does in the demo goes through the service layer.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from django_graceful_cancel.choices import CaseStatus, Channel, OfferOutcome, SyncStatus
from django_graceful_cancel.models import (
    CancellationCase,
    CaseEvent,
    ExperimentAssignment,
    ExperimentVariant,
    OfferExperiment,
    OfferPresentation,
    Reason,
    RetentionOffer,
    SaveCheck,
    StaffNote,
)
from django_graceful_cancel.models.cases import new_reference
from shop.models import Plan, Subscription

PLANS = [
    ("basic", "Basic", Decimal("7.99")),
    ("standard", "Standard", Decimal("12.99")),
    ("premium", "Premium", Decimal("19.99")),
]

CUSTOMERS = [
    # username, first name, language, plan, tenure in days, billing country, region
    ("alice", "Alice", "en", "premium", 720, "", ""),
    ("bruno", "Bruno", "es", "standard", 400, "", ""),
    ("carla", "Carla", "en", "standard", 90, "", ""),
    ("dmitri", "Dmitri", "en", "basic", 30, "", ""),
    ("elena", "Elena", "es", "premium", 1500, "", ""),
    # The law of the customer's place (docs/compliance.md): a German customer within the
    # 14-day withdrawal period (de: "Verträge hier kündigen", "Vertrag widerrufen"), a French
    # one (fr: three clicks) and one in Minnesota (us-mn: no offer before the confirmation).
    ("greta", "Greta", "de", "standard", 5, "DE", ""),
    ("jeanne", "Jeanne", "fr", "premium", 300, "FR", ""),
    ("mia", "Mia", "en", "standard", 200, "US", "MN"),
]

# How often each reason is stated in the generated history, and the root cause staff found.
REASON_WEIGHTS = {
    "price": 30,
    "quality": 10,
    "customer-service": 8,
    "missing-features": 12,
    "poor-communication": 5,
    "unmet-expectations": 9,
    "no-longer-needed": 10,
    "competitor": 7,
    "temporary": 6,
    "technical-problems": 5,
    "business-closed": 3,
    "other": 5,
}
ROOT_CAUSE = {"price": "unmet-expectations", "competitor": "missing-features"}


class Command(BaseCommand):
    help = "Create demo plans, customers (password: demo), staff (admin/admin) and case history."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--cases", type=int, default=400, help="Historical cases to generate.")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args: Any, cases: int, seed: int, batch_size: int, **options: Any) -> None:
        call_command("graceful_cancel_load_catalogue", stdout=self.stdout)
        with transaction.atomic():
            plans = self._plans()
            self._people(plans)
        existing = CancellationCase.objects.filter(subscription_ref__startswith="history:").count()
        to_make = max(cases - existing, 0)
        if to_make:
            self._history(to_make, start=existing, seed=seed, batch_size=batch_size, plans=plans)
        self.stdout.write(
            f"Demo data ready: {len(CUSTOMERS)} customers (password 'demo'), admin/admin, "
            f"{existing + to_make} historical cases."
        )

    def _plans(self) -> dict[str, Plan]:
        plans = {}
        for code, name, price in PLANS:
            plans[code], _ = Plan.objects.get_or_create(
                code=code, defaults={"name": name, "price": price, "currency": "EUR"}
            )
        return plans

    def _people(self, plans: dict[str, Plan]) -> None:
        User = get_user_model()
        now = timezone.now()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", "admin")
        for username, first_name, _lang, plan, tenure, country, region in CUSTOMERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first_name, "email": f"{username}@example.com"},
            )
            if created:
                user.set_password("demo")
                user.save()
            if not Subscription.objects.filter(user=user).exists():
                Subscription.objects.create(
                    user=user,
                    plan=plans[plan],
                    started_at=now - timedelta(days=tenure),
                    current_period_end=now + timedelta(days=12 + tenure % 17),
                    billing_country=country,
                    billing_region=region,
                )

    def _experiment(
        self, reasons: dict[str, Reason], offers: list[RetentionOffer]
    ) -> tuple[Any, list[ExperimentVariant]]:
        by_slug = {o.slug: o for o in offers}
        if "price" not in reasons or not {"discount-30-3m", "pause-2m"} <= set(by_slug):
            return None, []
        experiment, created = OfferExperiment.objects.get_or_create(
            name="Price: discount or pause?",
            defaults={"reason": reasons["price"], "holdout_percent": 20, "is_active": False},
        )
        if created:
            for slug in ("discount-30-3m", "pause-2m"):
                ExperimentVariant.objects.create(experiment=experiment, offer=by_slug[slug])
        return experiment, list(experiment.variants.select_related("offer"))

    def _desk_history(
        self,
        cases: list[CancellationCase],
        arms: list[Any],
        experiment: Any,
        rng: random.Random,
        now: Any,
        batch_size: int,
    ) -> None:
        """Experiment arms, 30/60/90-day save checks and a few staff notes for the history."""
        ExperimentAssignment.objects.bulk_create(
            [
                ExperimentAssignment(
                    case_id=case.pk,
                    experiment=experiment,
                    variant=None if arm == "holdout" else arm,
                    is_holdout=arm == "holdout",
                    assigned_at=case.created_at,
                )
                for case, arm in zip(cases, arms, strict=True)
                if arm is not None
            ],
            batch_size=batch_size,
        )
        checks, notes = [], []
        for case in cases:
            if case.status == CaseStatus.SAVED:
                active = True
                for days in (30, 60, 90):
                    if case.saved_at > now - timedelta(days=days):
                        break
                    active = active and rng.random() < 0.9
                    checks.append(
                        SaveCheck(
                            case_id=case.pk,
                            days=days,
                            still_active=active,
                            checked_at=case.saved_at + timedelta(days=days),
                        )
                    )
            if rng.random() < 0.05:
                notes.append(
                    StaffNote(
                        case_id=case.pk,
                        body="Called the customer; they want the feature on the roadmap.",
                        created_at=case.created_at + timedelta(hours=2),
                    )
                )
        SaveCheck.objects.bulk_create(checks, batch_size=batch_size)
        StaffNote.objects.bulk_create(notes, batch_size=batch_size)

    def _history(
        self, count: int, *, start: int, seed: int, batch_size: int, plans: dict[str, Plan]
    ) -> None:
        rng = random.Random(seed + start)
        reasons = {r.slug: r for r in Reason.objects.all()}
        offers = list(RetentionOffer.objects.prefetch_related("reasons"))
        offer_for = {}
        for offer in offers:
            for reason in offer.reasons.all():
                offer_for.setdefault(reason.slug, offer)
        slugs = list(REASON_WEIGHTS)
        weights = [REASON_WEIGHTS[s] for s in slugs]
        plan_list = list(plans.values())
        now = timezone.now()
        experiment, variants = self._experiment(reasons, offers)
        made = 0
        while made < count:
            n = min(batch_size, count - made)
            cases, decisions, arms = [], [], []
            for i in range(n):
                number = start + made + i
                created = now - timedelta(minutes=rng.randint(60, 365 * 24 * 60))
                slug = rng.choices(slugs, weights)[0] if rng.random() > 0.15 else None
                reason = reasons.get(slug) if slug else None
                plan = rng.choice(plan_list)
                offer = offer_for.get(slug) if reason and reason.offer_allowed else None
                # The demo's offer experiment on price: 20% holdout (no offer), then 50/50.
                arm: Any = None
                if variants and slug == experiment.reason.slug:
                    pick = rng.random()
                    arm = "holdout" if pick < 0.2 else variants[0] if pick < 0.6 else variants[1]
                    offer = None if arm == "holdout" else arm.offer
                roll = rng.random()
                if offer is not None and roll < 0.28:
                    status, outcome = CaseStatus.SAVED, OfferOutcome.ACCEPTED
                elif roll < 0.9:
                    status = CaseStatus.CANCELLED
                    outcome = OfferOutcome.DECLINED if offer is not None else None
                    if rng.random() < 0.06:
                        status = CaseStatus.REACTIVATED
                else:
                    status, outcome = CaseStatus.ABANDONED, None
                closed = created + timedelta(minutes=rng.randint(1, 30))
                case = CancellationCase(
                    reference=new_reference(),
                    subscription_ref=f"history:{number}",
                    status=status,
                    reason=reason,
                    root_cause=reasons.get(ROOT_CAUSE.get(slug or "", slug or ""))
                    if rng.random() < 0.4
                    else None,
                    preferred_channel=rng.choice(Channel.values),
                    contact_consent=rng.random() < 0.6,
                    language=rng.choice(["en", "en", "es"]),
                    plan=plan.name,
                    price=plan.price,
                    currency=plan.currency,
                    billing_interval=plan.interval,
                    tenure_days=rng.randint(10, 1800),
                    created_at=created,
                    closed_at=closed,
                    cancelled_at=closed
                    if status in (CaseStatus.CANCELLED, CaseStatus.REACTIVATED)
                    else None,
                    effective_at=closed + timedelta(days=rng.randint(0, 30))
                    if status in (CaseStatus.CANCELLED, CaseStatus.REACTIVATED)
                    else None,
                    saved_at=closed if status == CaseStatus.SAVED else None,
                    reactivated_at=closed + timedelta(days=1)
                    if status == CaseStatus.REACTIVATED
                    else None,
                    provider_sync=SyncStatus.SYNCED
                    if status in (CaseStatus.CANCELLED, CaseStatus.REACTIVATED)
                    else SyncStatus.NOT_NEEDED,
                    survey_score=rng.randint(1, 5) if rng.random() < 0.3 else None,
                    priority=rng.randint(0, 100),
                )
                cases.append(case)
                decisions.append((offer, outcome, closed))
                arms.append(arm)
            with transaction.atomic():
                CancellationCase.objects.bulk_create(cases, batch_size=batch_size)
                # bulk_create sets primary keys on PostgreSQL and SQLite >= 3.35; fetch them when not.
                if cases and cases[0].pk is None:
                    refs = {c.reference: c for c in cases}
                    for pk, ref in CancellationCase.objects.filter(
                        reference__in=list(refs)
                    ).values_list("pk", "reference"):
                        refs[ref].pk = pk
                OfferPresentation.objects.bulk_create(
                    [
                        OfferPresentation(
                            case_id=case.pk,
                            offer=offer,
                            outcome=outcome,
                            presented_at=case.created_at,
                            decided_at=closed,
                        )
                        for case, (offer, outcome, closed) in zip(cases, decisions, strict=True)
                        if offer is not None and outcome is not None
                    ],
                    batch_size=batch_size,
                )
                CaseEvent.objects.bulk_create(
                    [
                        CaseEvent(
                            case_id=case.pk,
                            kind="started",
                            created_at=case.created_at,
                            actor_label="customer",
                        )
                        for case in cases
                    ],
                    batch_size=batch_size,
                )
                self._desk_history(cases, arms, experiment, rng, now, batch_size)
            made += n
            if count > batch_size:
                self.stdout.write(f"  {made}/{count} historical cases")
