"""The model backend stops the renewal in every shape (issue 13, "The renewal really stops").

An active flag and an expiry date with the renewal flag on a related row: the flag is written
through the relation, access stays until the expiry date. A shape that cannot stop a renewal is
a check error. Field paths, ``PLAN_LOOKUP_FIELD`` and the plans offers name are checked, and a
downgrade that cannot be applied is refused for good, never a 500 nor an invitation to retry. The
subclass docs/backends.md shows for renewal kept elsewhere is run from the page itself.
"""

from __future__ import annotations

import re
import sys
import types
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import Tags, run_checks
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.backends.model import ModelSubscriptionBackend
from django_graceful_cancel.choices import CaseStatus, OfferOutcome, SyncStatus
from django_graceful_cancel.exceptions import BackendError, InvalidTransition
from django_graceful_cancel.models import CancellationCase, Reason, RetentionOffer
from django_graceful_cancel.services.fulfilment import check_catalogue
from tests.support import gc_settings
from tests.testapp.models import Pass, PassRenewal, Plan, RenewalOrder, Subscription

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parent.parent / "docs"

#: An annual pass: no status, an active flag, an expiry date, the renewal flag on a related row.
PASS_FIELDS = {
    "customer": "holder",
    "status": None,
    "active": "active",
    "plan": "kind",
    "price": "yearly_fee",
    "current_period_end": "valid_until",
    "auto_renew": "renewal__enabled",
}


def pass_settings(**overrides: Any) -> dict[str, Any]:
    return gc_settings(
        **{"SUBSCRIPTION_MODEL": "testapp.Pass", "SUBSCRIPTION_FIELDS": PASS_FIELDS, **overrides}
    )


def check_ids(**overrides: Any) -> list[tuple[str, str]]:
    with override_settings(GRACEFUL_CANCEL=gc_settings(**overrides)):
        return [
            (str(m.id), m.msg)
            for m in run_checks(tags=[Tags.compatibility])
            if str(m.id).startswith("graceful_cancel.")
        ]


@pytest.fixture
def holder(django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("pia", "pia@example.com", "x")
    annual = Pass.objects.create(holder=user, valid_until=date.today() + timedelta(days=40))
    PassRenewal.objects.create(annual_pass=annual)
    return user


# --- keep access until the expiry date, stop the renewal ---------------------------------------


@override_settings(GRACEFUL_CANCEL=pass_settings())
def test_cancelling_keeps_access_until_the_expiry_date_and_stops_the_renewal(holder, catalogue):
    annual = Pass.objects.get(holder=holder)
    case, _ = services.start_case(holder)
    services.confirm_cancellation(case, actor=holder)
    case.refresh_from_db()
    annual.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED and case.provider_sync == SyncStatus.SYNCED
    assert case.effective_mode == "period_end"
    # Access until the end of the expiry day: not "now".
    end_of_day = timezone.make_aware(datetime.combine(annual.valid_until, time.max))
    assert case.effective_at == end_of_day
    assert annual.active is True and annual.valid_until == date.today() + timedelta(days=40)
    # The site's renewal job reads this flag: it is off.
    assert PassRenewal.objects.get(annual_pass=annual).enabled is False
    # The pass is now set to end: a second cancellation is refused.
    with pytest.raises(InvalidTransition) as refused:
        services.start_case(holder)
    assert refused.value.code == "already_cancelled"
    services.reactivate(case, actor=holder)
    assert PassRenewal.objects.get(annual_pass=annual).enabled is True
    assert Pass.objects.get(pk=annual.pk).active is True


@override_settings(GRACEFUL_CANCEL=pass_settings())
def test_ending_now_only_when_the_customer_chooses_it(holder, catalogue):
    case, _ = services.start_case(holder)
    services.confirm_cancellation(case, effective="immediately", actor=holder)
    annual = Pass.objects.get(holder=holder)
    assert annual.active is False
    assert PassRenewal.objects.get(annual_pass=annual).enabled is False


@override_settings(GRACEFUL_CANCEL=pass_settings())
def test_a_pass_without_a_renewal_row_is_not_renewing(holder, catalogue):
    PassRenewal.objects.all().delete()
    info = ModelSubscriptionBackend().get_active_subscription(holder)
    assert info is not None and info.cancel_at_period_end is True
    with pytest.raises(InvalidTransition):
        services.start_case(holder)


@override_settings(
    GRACEFUL_CANCEL=pass_settings(
        SUBSCRIPTION_FIELDS={**PASS_FIELDS, "auto_renew": None, "active": None}
    )
)
def test_a_shape_with_only_an_expiry_date_ends_access_by_moving_it(holder, catalogue):
    """No flag to clear: "now" moves the expiry date to today (and E010 says the renewal cannot
    be stopped; test below)."""
    backend = ModelSubscriptionBackend()
    assert backend.capabilities().cancel_now is True
    assert backend.capabilities().cancel_at_period_end is False
    reference = backend.get_active_subscription(holder).reference
    backend.cancel(reference, at_period_end=False, case=None)
    assert Pass.objects.get(holder=holder).valid_until == timezone.localdate()


def test_a_shape_that_cannot_stop_the_renewal_is_a_check_error():
    fields = {**PASS_FIELDS, "auto_renew": None}
    found = check_ids(SUBSCRIPTION_MODEL="testapp.Pass", SUBSCRIPTION_FIELDS=fields)
    assert [i for i, _ in found] == ["graceful_cancel.E010"]
    assert "testapp.Pass" in found[0][1]
    # The renewal flag, on the model or through a relation, or a status, is enough.
    assert check_ids(SUBSCRIPTION_MODEL="testapp.Pass", SUBSCRIPTION_FIELDS=PASS_FIELDS) == []
    assert check_ids() == []  # the suite's Subscription: a status and cancel_at_period_end


# --- field paths ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "path", "words"),
    [
        ("auto_renew", "renewal__nope", "has no field 'nope'"),
        ("auto_renew", "holder__renewal_orders__active", "relation to many"),
        ("auto_renew", "kind", "must be a BooleanField"),
        ("current_period_end", "kind", "must be a DateField"),
        ("active", "holder", "cannot be written"),
    ],
)
def test_field_paths_are_checked_for_what_the_key_does(key, path, words):
    found = check_ids(
        SUBSCRIPTION_MODEL="testapp.Pass", SUBSCRIPTION_FIELDS={**PASS_FIELDS, key: path}
    )
    assert [i for i, _ in found] == ["graceful_cancel.E005"]
    assert repr(key) in found[0][1] and words in found[0][1]


def test_a_read_only_key_may_name_a_property_but_a_written_one_may_not():
    fields = {**PASS_FIELDS, "price": "renewal__annual_pass__yearly_fee"}
    assert check_ids(SUBSCRIPTION_MODEL="testapp.Pass", SUBSCRIPTION_FIELDS=fields) == []
    backend = ModelSubscriptionBackend
    assert backend.path_problem(Pass, "currency", "renewal__pk") == ""
    assert "property" in backend.path_problem(Pass, "canceled_at", "renewal__pk")


def test_plan_lookup_field_must_be_a_field_of_the_plan_model():
    found = check_ids(PLAN_LOOKUP_FIELD="slug")
    assert [i for i, _ in found] == ["graceful_cancel.E005"]
    assert "testapp.Plan" in found[0][1] and "'slug'" in found[0][1]
    assert check_ids(PLAN_LOOKUP_FIELD="name") == []


# --- downgrades that cannot be applied ----------------------------------------------------------


def downgrade_offer(parameters: dict[str, Any], reason: str = "price") -> RetentionOffer:
    RetentionOffer.objects.filter(reasons__slug=reason).update(is_active=False)
    offer = RetentionOffer.objects.create(
        slug="to-cheaper", kind="downgrade", title="A cheaper plan", parameters=parameters
    )
    offer.reasons.add(Reason.objects.get(slug=reason))
    return offer


def open_case(customer: Any, reason: str = "price") -> CancellationCase:
    case, _ = services.start_case(customer)
    services.record_reason(case, reason)
    services.present_offer(case)
    return CancellationCase.objects.get(pk=case.pk)


def test_an_offer_naming_a_plan_that_does_not_exist_is_never_shown_and_the_check_names_it(
    make_customer, catalogue
):
    downgrade_offer({"plan": "platinum"})
    assert services.present_offer(open_case(make_customer())) is None
    warnings = [m for m in check_catalogue() if m.id == "graceful_cancel.W011"]
    assert [w.obj.slug for w in warnings] == ["to-cheaper"]
    assert "'platinum'" in warnings[0].msg


def test_a_plan_gone_since_the_offer_was_shown_is_refused_for_good(
    client, make_customer, catalogue
):
    """The page says the offer cannot be applied (not "try again": 409, not 503) and keeps the
    way out; nothing changed."""
    downgrade_offer({"plan": "basic"})
    customer = make_customer(plan="standard")
    case = open_case(customer)
    assert case.offer_presentation.offer.slug == "to-cheaper"
    Plan.objects.filter(code="basic").update(code="basic-2019")
    client.force_login(customer)
    response = client.post(reverse("graceful_cancel:accept", args=[case.reference]))
    assert response.status_code == 409
    html = response.content.decode()
    assert "can&#x27;t be applied" in html or "can't be applied" in html
    assert 'id="gc-confirm"' in html and 'id="gc-accept"' not in html
    assert "try again" not in html
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.offer_presentation.outcome == OfferOutcome.PRESENTED
    assert Subscription.objects.get(user=customer).plan.code == "standard"
    # The way out works.
    client.post(reverse("graceful_cancel:confirm", args=[case.reference]))
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED


def test_a_plan_lookup_field_changed_since_the_offer_was_shown_never_gives_a_500(
    client, make_customer, catalogue
):
    downgrade_offer({"plan": "basic"})
    customer = make_customer(plan="standard")
    case = open_case(customer)
    client.force_login(customer)
    api = reverse("graceful_cancel_api:case-accept-offer", args=[case.reference])
    with override_settings(GRACEFUL_CANCEL=gc_settings(PLAN_LOOKUP_FIELD="slug")):
        page = client.post(reverse("graceful_cancel:accept", args=[case.reference]))
        response = client.post(api, {}, content_type="application/json")
    assert page.status_code == 409 and 'id="gc-confirm"' in page.content.decode()
    assert response.status_code == 502
    assert response.json()["code"] == "offer_not_applicable"
    assert "can't be applied" in response.json()["detail"]
    assert CancellationCase.objects.get(pk=case.pk).status == CaseStatus.OPEN


def test_a_plain_plan_value_with_its_own_price_field(holder, catalogue):
    """The pass's plan is a choice and its price a field of its own: a downgrade writes both,
    and an offer without a price (or naming no such choice) is not offered."""
    with override_settings(GRACEFUL_CANCEL=pass_settings()):
        backend = ModelSubscriptionBackend()
        good = downgrade_offer({"plan": "day", "price": "60.00"})
        assert backend.can_apply(good)
        for parameters in ({"plan": "day"}, {"plan": "weekend", "price": "50"}):
            bad = RetentionOffer(slug="bad", kind="downgrade", parameters=parameters)
            assert not backend.can_apply(bad)
            assert [m.id for m in backend.offer_problems(bad)] == ["graceful_cancel.W011"]
        case = open_case(holder)
        assert case.offer_presentation.offer == good
        services.accept_offer(case, actor=holder)
    annual = Pass.objects.get(holder=holder)
    assert (annual.kind, annual.yearly_fee) == ("day", Decimal("60.00"))
    applied = CancellationCase.objects.get(pk=case.pk).offer_presentation.applied
    # The saved page reads the plan's name: the choice's label; offers name its value.
    assert applied == {"kind": "downgrade", "plan": "Days", "price": "60.00"}
    with override_settings(GRACEFUL_CANCEL=pass_settings()):
        info = ModelSubscriptionBackend().get_active_subscription(holder)
    assert (info.plan, info.plan_code, info.price) == ("Days", "day", Decimal("60.00"))


@override_settings(GRACEFUL_CANCEL=pass_settings())
def test_an_extension_moves_the_expiry_date_and_a_pause_needs_one(holder, catalogue):
    backend = ModelSubscriptionBackend()
    assert {"pause", "extension", "downgrade"} <= backend.capabilities().offer_kinds
    assert "discount" not in backend.capabilities().offer_kinds
    before = Pass.objects.get(holder=holder).valid_until
    offer = RetentionOffer.objects.get(slug="extension-1m")
    reference = backend.get_active_subscription(holder).reference
    applied = backend.apply_offer(reference, offer, case=None)
    assert Pass.objects.get(holder=holder).valid_until == before + timedelta(days=30)
    assert applied["current_period_end"].startswith(str(before + timedelta(days=30)))
    with override_settings(
        GRACEFUL_CANCEL=pass_settings(
            SUBSCRIPTION_FIELDS={**PASS_FIELDS, "current_period_end": None, "plan": None}
        )
    ):
        assert ModelSubscriptionBackend().capabilities().offer_kinds == frozenset()


def test_the_model_backend_applies_nothing_it_does_not_declare(customer, catalogue):
    backend = ModelSubscriptionBackend()
    discount = RetentionOffer.objects.get(slug="discount-30-3m")
    assert not backend.can_apply(discount)
    with pytest.raises(BackendError) as refused:
        backend.apply_offer(
            backend.get_active_subscription(customer).reference, discount, case=None
        )
    assert refused.value.transient is False


# --- the subclass of docs/backends.md ---------------------------------------------------------


def docs_example(title: str) -> str:
    page = (DOCS / "backends.md").read_text(encoding="utf-8")
    found = re.search(rf'^```python title="{re.escape(title)}"\n(.*?)^```', page, re.M | re.S)
    assert found, f"docs/backends.md has no example titled {title}"
    return found.group(1)


@pytest.fixture
def pass_backend(monkeypatch: pytest.MonkeyPatch) -> str:
    """The page's ``passes/graceful_cancel.py``, run as written, with the site's ``passes.models``
    being the suite's ``RenewalOrder``."""
    source = docs_example("passes/graceful_cancel.py")
    assert len(source.splitlines()) < 40
    models = types.ModuleType("passes.models")
    models.RenewalOrder = RenewalOrder  # type: ignore[attr-defined]
    package = types.ModuleType("passes")
    package.models = models  # type: ignore[attr-defined]
    module = types.ModuleType("passes.graceful_cancel")
    monkeypatch.setitem(sys.modules, "passes", package)
    monkeypatch.setitem(sys.modules, "passes.models", models)
    monkeypatch.setitem(sys.modules, "passes.graceful_cancel", module)
    exec(compile(source, "docs/backends.md", "exec"), module.__dict__)
    return "passes.graceful_cancel.PassBackend"


SUBCLASS_FIELDS = {
    "customer": "holder",
    "status": None,
    "active": "active",
    "plan": "kind",
    "current_period_end": "valid_until",
}


def test_the_documented_subclass_stops_renewal_kept_elsewhere(pass_backend, holder, catalogue):
    RenewalOrder.objects.create(holder=holder)
    other = RenewalOrder.objects.create(holder=holder, active=False)  # an old, stopped order
    config = gc_settings(
        SUBSCRIPTION_BACKEND=pass_backend,
        SUBSCRIPTION_MODEL="testapp.Pass",
        SUBSCRIPTION_FIELDS=SUBCLASS_FIELDS,
    )
    with override_settings(GRACEFUL_CANCEL=config):
        assert [m.id for m in run_checks(tags=[Tags.compatibility]) if m.id] == []
        case, _ = services.start_case(holder)
        services.confirm_cancellation(case, actor=holder)
        case.refresh_from_db()
        assert case.effective_mode == "period_end"
        assert case.provider_sync == SyncStatus.SYNCED
        assert Pass.objects.get(holder=holder).active is True
        assert not RenewalOrder.objects.filter(holder=holder, active=True).exists()
        with pytest.raises(InvalidTransition):
            services.start_case(holder)
        services.reactivate(case, actor=holder)
        assert RenewalOrder.objects.filter(holder=holder, active=True).count() == 1
        assert RenewalOrder.objects.get(pk=other.pk).active is False  # not this case's
    # The same fields on the plain backend cannot stop the renewal.
    assert [
        i
        for i, _ in check_ids(
            SUBSCRIPTION_MODEL="testapp.Pass", SUBSCRIPTION_FIELDS=SUBCLASS_FIELDS
        )
    ] == ["graceful_cancel.E010"]


def test_a_written_key_never_goes_through_a_foreign_key(customer, catalogue):
    """A plan or a price row is shared by many subscriptions: writing through the foreign key
    would change them all. Such a path is a check error and the backend refuses to write it."""
    fields = {**ModelSubscriptionBackend().fields, "plan": "plan__code"}
    found = check_ids(SUBSCRIPTION_FIELDS=fields)
    assert [i for i, _ in found] == ["graceful_cancel.E005"]
    assert "shared by other subscriptions" in found[0][1]
    with override_settings(GRACEFUL_CANCEL=gc_settings(SUBSCRIPTION_FIELDS=fields)):
        backend = ModelSubscriptionBackend()
        assert "downgrade" not in backend.capabilities().offer_kinds
        offer = RetentionOffer.objects.get(slug="downgrade-basic")
        reference = backend.get_active_subscription(customer).reference
        with pytest.raises(BackendError):
            backend.apply_offer(reference, offer, case=None)
    assert Plan.objects.filter(code="standard").exists()  # nobody's plan row was renamed


def test_a_trial_reactivated_is_still_a_trial(customer, catalogue):
    Subscription.objects.filter(user=customer).update(status="trialing")
    case, _ = services.start_case(customer)
    services.confirm_cancellation(case)
    assert Subscription.objects.get(user=customer).cancel_at_period_end is True
    services.reactivate(case)
    subscription = Subscription.objects.get(user=customer)
    assert (subscription.status, subscription.cancel_at_period_end) == ("trialing", False)
