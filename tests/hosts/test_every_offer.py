"""No offer is presented that nobody will fulfil, in any of the three host sites.

For every reason of the catalogue, a fresh customer of each site gives that reason; whenever the
page shows an offer, the customer accepts it, and then something must really have happened: the
site's own rows changed (the backend or the site's hook applied it) or a task is waiting on the
desk for the site's staff, with a due date.
"""

from __future__ import annotations

import itertools

import pytest

from django_graceful_cancel.catalogue.defaults import REASONS
from django_graceful_cancel.models import FulfilmentTask, OfferPresentation, Reason
from tests.hosts.sites import SITES, case_of, prepare_catalogue, serving

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("noon")]

COUNTER = itertools.count(1)
REASON_SLUGS = [reason["slug"] for reason in REASONS]


@pytest.mark.parametrize("name", list(SITES))
@pytest.mark.parametrize("reason", REASON_SLUGS)
def test_an_offer_shown_is_an_offer_kept(name, reason, catalogue, walk):
    assert Reason.objects.filter(slug=reason, is_active=True).exists()
    with serving(name) as site:
        prepare_catalogue(site)
        user = site.make_customer(f"customer{next(COUNTER)}")
        before = site.data.snapshot(user)
        customer = walk(user, name)
        page = customer.give_reason(reason)
        if 'id="gc-accept"' not in page:
            assert not OfferPresentation.objects.filter(case=case_of(user)).exists()
            return
        customer.accept_offer()
        assert customer.step == "saved", customer.page
        (presentation,) = OfferPresentation.objects.filter(case=case_of(user))
        tasks = FulfilmentTask.objects.filter(case=case_of(user))
        changed = site.data.snapshot(user) != before
        applied_by = (presentation.applied or {}).get("applied_by")
        if applied_by == "staff":
            (task,) = tasks
            assert task.due_at is not None and task.offer == presentation.offer
            assert not changed
        else:
            assert not tasks.exists()
            assert changed, f"{presentation.offer.slug} was accepted and nothing changed"


def test_every_reason_of_the_catalogue_is_walked(catalogue):
    assert set(Reason.objects.values_list("slug", flat=True)) == set(REASON_SLUGS)


def test_each_site_shows_an_offer_for_some_reason_and_none_for_others(catalogue, walk):
    """The walk above sees both branches on every site (so neither branch is dead code)."""
    for name in SITES:
        with serving(name) as site:
            prepare_catalogue(site)
            shown = []
            for reason in ("temporary", "business-closed"):
                user = site.make_customer(f"branch{next(COUNTER)}")
                shown.append('id="gc-accept"' in walk(user, name).give_reason(reason))
            assert shown == [True, False], name
