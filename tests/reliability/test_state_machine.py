"""Property-based test of the service layer's state machine (hypothesis, stateful).

Hypothesis drives random sequences of start / record_reason / present_offer / accept / decline /
confirm / reactivate / abandon / provider retry against one customer, with the subscription
backend failing now and then. A model of the expected case status predicts which calls must
succeed and which must be refused; after every step the invariants below are checked against the
database:

* every status is a known one and matches the case's timeline (the last lifecycle event);
* one STARTED event per case, first; at most one CANCELLED event per case, and never two
  cancellations in force for one subscription;
* at most one offer per case, ever (one presentation, one OFFER_PRESENTED event), and its
  outcome agrees with the status;
* timestamps agree with the status; a pending provider sync only on cancelled or reactivated
  cases; at most one open case per subscription.

The customer's answer goes through the same input rules as the page and the API
(``services.flow.check_reason``) with hostile text and phone numbers: NUL bytes, lone surrogates,
control characters, words. What the rules refuse changes nothing; what they accept is stored as
they return it (a phone number in E.164).

Examples and steps come from the Hypothesis profile (tests/conftest.py): "ci" is derandomised
(the same examples in every run of `make test`), "long" (`make reliability`) is randomised and
searches harder. ``GC_MACHINE_EXAMPLES=500`` overrides the number of examples.
"""

from __future__ import annotations

import itertools
import os
from datetime import timedelta
from typing import Any

import phonenumbers
import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from django_graceful_cancel import services
from django_graceful_cancel.backends.model import ModelSubscriptionBackend
from django_graceful_cancel.choices import (
    CaseStatus,
    EventKind,
    OfferOutcome,
    SyncStatus,
)
from django_graceful_cancel.exceptions import (
    BackendError,
    InvalidInput,
    InvalidTransition,
    NoActiveSubscription,
)
from django_graceful_cancel.models import CancellationCase, OfferPresentation
from django_graceful_cancel.services import flow
from tests.support import gc_settings
from tests.testapp.models import Plan, Subscription

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

LIFECYCLE = {
    EventKind.STARTED: CaseStatus.OPEN,
    EventKind.OFFER_ACCEPTED: CaseStatus.SAVED,
    EventKind.CANCELLED: CaseStatus.CANCELLED,
    EventKind.REACTIVATED: CaseStatus.REACTIVATED,
    EventKind.ABANDONED: CaseStatus.ABANDONED,
}
REASONS = [None, "price", "temporary", "business-closed", "missing-features", "other", "quality"]
#: Anything a client can send, NUL bytes and lone surrogates included: the input rules
#: (``flow.check_reason``) refuse what cannot be stored, as the forms and the API do.
FREE_TEXT = st.text(st.characters(exclude_categories=()), max_size=60) | st.sampled_from(
    ["{{ 7*7 }}", "{% debug %}", "<script>alert(1)</script>", "x" * 6000, "a\x00b", "\ud800"]
)
#: Numbers the rules accept, as customers type them, and what they are stored as.
VALID_PHONES = {
    "+34 600 123 456": "+34600123456",
    "+34600000000": "+34600000000",
    "+1 (202) 555-0143": "+12025550143",
    "+44 20 7946 0958": "+442079460958",
}
PHONES = (
    st.sampled_from(["", *VALID_PHONES])
    | FREE_TEXT
    | st.sampled_from(["call me maybe", "-1", "+34 600\x07123 456", "+3460", "600 123 456"])
)
CHANNELS = [None, "email", "sms", "whatsapp", "phone"]


def unstorable(text: str) -> bool:
    return "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text)


def is_e164(number: str) -> bool:
    parsed = phonenumbers.parse(number, None)
    return phonenumbers.is_valid_number(parsed) and number == phonenumbers.format_number(
        parsed, phonenumbers.PhoneNumberFormat.E164
    )


_usernames = itertools.count()


class FlakyBackend(ModelSubscriptionBackend):
    """The example site's model backend, failing every call while ``down`` is set."""

    down = False

    def _check(self) -> None:
        if FlakyBackend.down:
            raise BackendError("provider down", transient=True)

    def cancel(self, reference: str, *, at_period_end: bool, case: Any) -> None:
        self._check()
        super().cancel(reference, at_period_end=at_period_end, case=case)

    def reactivate(self, reference: str, *, case: Any) -> None:
        self._check()
        super().reactivate(reference, case=case)

    def apply_offer(self, reference: str, offer: Any, *, case: Any) -> dict[str, Any]:
        self._check()
        return super().apply_offer(reference, offer, case=case)


class CaseMachine(RuleBasedStateMachine):
    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        FlakyBackend.down = False
        now = timezone.now()
        self.user = get_user_model().objects.create_user(
            username=f"machine{next(_usernames)}", email="m@example.com", first_name="Mo"
        )
        self.subscription = Subscription.objects.create(
            user=self.user,
            plan=Plan.objects.get(code="premium"),
            started_at=now - timedelta(days=500),
            current_period_end=now + timedelta(days=20),
        )
        #: What the model expects each case's status to be, by primary key.
        self.expected: dict[int, str] = {}

    # --- helpers -----------------------------------------------------------------------------

    def fresh(self, pk: int) -> CancellationCase:
        return CancellationCase.objects.get(pk=pk)

    def open_pk(self) -> int | None:
        return next((pk for pk, s in self.expected.items() if s == CaseStatus.OPEN), None)

    def subscription_cancellable(self) -> bool:
        sub = Subscription.objects.get(pk=self.subscription.pk)
        return sub.status in ("active", "trialing", "past_due")

    def refused(self, pk: int, call: Any) -> None:
        """``call`` must be refused with InvalidTransition and change nothing."""
        before = self.fresh(pk)
        events = before.events.count()
        with pytest.raises(InvalidTransition):
            call()
        after = self.fresh(pk)
        assert after.status == before.status
        assert after.events.count() == events

    # --- rules -------------------------------------------------------------------------------

    @rule(target=cases)
    def start(self) -> Any:
        open_pk = self.open_pk()
        cancellable = self.subscription_cancellable()
        # A cancellation in force: applied by the provider (the subscription is set to end) or
        # confirmed here while the provider was down (sync pending).
        cancelled = (
            Subscription.objects.get(pk=self.subscription.pk).cancel_at_period_end
            or CancellationCase.objects.filter(
                customer=self.user,
                status=CaseStatus.CANCELLED,
                provider_sync=SyncStatus.PENDING,
            ).exists()
        )
        try:
            case, created = services.start_case(self.user, actor=self.user)
        except NoActiveSubscription:
            assert open_pk is None and not cancellable
            return multiple()
        except InvalidTransition as error:
            # A cancellation is already in force (applied by the provider or still pending).
            assert error.code == "already_cancelled"
            assert open_pk is None and cancelled
            return multiple()
        # A cancellation in force must have been refused above.
        assert not cancelled or open_pk is not None
        if open_pk is not None:
            assert (case.pk, created) == (open_pk, False)
        else:
            assert created is True
            assert cancellable
            self.expected[case.pk] = CaseStatus.OPEN
        return case.pk

    @rule(
        pk=cases,
        reason=st.sampled_from(REASONS),
        detail=FREE_TEXT,
        phone=PHONES,
        channel=st.sampled_from(CHANNELS),
        consent=st.booleans(),
    )
    def record_reason(
        self,
        pk: int,
        reason: str | None,
        detail: str,
        phone: str,
        channel: str | None,
        consent: bool,
    ) -> None:
        before = self.fresh(pk)
        try:
            answer = flow.check_reason(
                reason,
                detail=detail,
                preferred_channel=channel,
                contact_consent=consent,
                contact_phone=phone,
                current_channel=before.preferred_channel,
            )
        except InvalidInput as error:
            # Refused only for what breaks a rule, and the check changed nothing.
            breaks = set()
            if unstorable(detail):
                breaks.add("detail")
            if phone.strip() and phone not in VALID_PHONES:
                breaks.add("contact_phone")
            if (
                consent
                and (channel or before.preferred_channel) in flow.PHONE_CHANNELS
                and not phone.strip()
            ):
                breaks.add("contact_phone")
            assert set(error.errors) <= breaks, (error.errors, detail, phone)
            after = self.fresh(pk)
            assert (after.status, after.events.count()) == (before.status, before.events.count())
            return
        assert not unstorable(answer.detail)
        if phone in VALID_PHONES:
            assert answer.contact_phone == VALID_PHONES[phone]
        assert answer.contact_phone == "" or is_e164(answer.contact_phone)
        call = lambda: services.record_reason(  # noqa: E731
            self.fresh(pk),
            answer.reason,
            detail=answer.detail,
            preferred_channel=answer.preferred_channel,
            contact_consent=answer.contact_consent,
            contact_phone=answer.contact_phone,
        )
        if self.expected[pk] != CaseStatus.OPEN:
            self.refused(pk, call)
            return
        case = call()
        case.refresh_from_db()
        assert case.reason_detail == answer.detail[:5000]
        assert case.contact_phone == (answer.contact_phone if consent else "")

    @rule(pk=cases)
    def present_offer(self, pk: int) -> None:
        before = OfferPresentation.objects.filter(case_id=pk).first()
        presentation = services.present_offer(self.fresh(pk))
        if before is not None:
            assert presentation is not None and presentation.pk == before.pk
        elif self.expected[pk] != CaseStatus.OPEN:
            assert presentation is None

    @rule(pk=cases)
    def accept(self, pk: int) -> None:
        pending = OfferPresentation.objects.filter(
            case_id=pk, outcome=OfferOutcome.PRESENTED
        ).exists()
        call = lambda: services.accept_offer(self.fresh(pk), actor=self.user)  # noqa: E731
        if self.expected[pk] != CaseStatus.OPEN or not pending:
            self.refused(pk, call)
            return
        if FlakyBackend.down:
            with pytest.raises(BackendError):
                call()
            assert self.fresh(pk).status == CaseStatus.OPEN
            return
        assert call().status == CaseStatus.SAVED
        self.expected[pk] = CaseStatus.SAVED

    @rule(pk=cases)
    def decline(self, pk: int) -> None:
        pending = OfferPresentation.objects.filter(
            case_id=pk, outcome=OfferOutcome.PRESENTED
        ).exists()
        call = lambda: services.decline_offer(self.fresh(pk), actor=self.user)  # noqa: E731
        if self.expected[pk] != CaseStatus.OPEN or not pending:
            self.refused(pk, call)
            return
        assert call().status == CaseStatus.OPEN

    @rule(pk=cases, effective=st.sampled_from([None, "period_end", "immediately"]))
    def confirm(self, pk: int, effective: str | None) -> None:
        call = lambda: services.confirm_cancellation(  # noqa: E731
            self.fresh(pk), effective=effective, actor=self.user
        )
        if self.expected[pk] != CaseStatus.OPEN:
            self.refused(pk, call)
            return
        # A confirmed cancellation holds whatever the provider does.
        case = call()
        assert case.status == CaseStatus.CANCELLED
        assert case.provider_sync == (
            SyncStatus.PENDING if FlakyBackend.down else SyncStatus.SYNCED
        )
        self.expected[pk] = CaseStatus.CANCELLED

    @rule(pk=cases)
    def reactivate(self, pk: int) -> None:
        case = self.fresh(pk)
        call = lambda: services.reactivate(self.fresh(pk), actor=self.user)  # noqa: E731
        if self.expected[pk] != CaseStatus.CANCELLED or not case.can_reactivate:
            self.refused(pk, call)
            return
        assert call().status == CaseStatus.REACTIVATED
        self.expected[pk] = CaseStatus.REACTIVATED

    @rule(pk=cases)
    def abandon(self, pk: int) -> None:
        call = lambda: services.abandon(self.fresh(pk))  # noqa: E731
        if self.expected[pk] != CaseStatus.OPEN:
            self.refused(pk, call)
            return
        assert call().status == CaseStatus.ABANDONED
        self.expected[pk] = CaseStatus.ABANDONED

    @rule(down=st.booleans())
    def provider_goes(self, down: bool) -> None:
        FlakyBackend.down = down

    @rule(pk=cases)
    def retry_sync(self, pk: int) -> None:
        case = self.fresh(pk)
        before = case.provider_sync
        # A newer case on the subscription decides what the provider should do: replaying this
        # one is skipped (services.cases._sync).
        superseded = (
            CancellationCase.objects.filter(
                subscription_ref=case.subscription_ref, created_at__gt=case.created_at
            )
            .exclude(pk=pk)
            .exists()
        )
        after = services.retry_provider_sync(pk).provider_sync
        if before == SyncStatus.PENDING and superseded:
            assert after == SyncStatus.NOT_NEEDED
        elif before == SyncStatus.PENDING and not FlakyBackend.down:
            assert after == SyncStatus.SYNCED
        elif before != SyncStatus.PENDING:
            assert after == before

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def statuses_match_the_model_and_the_timeline(self) -> None:
        for case in CancellationCase.objects.filter(customer=self.user):
            assert case.status in CaseStatus.values
            assert case.status == self.expected[case.pk]
            kinds = list(case.events.order_by("created_at", "pk").values_list("kind", flat=True))
            assert kinds[0] == EventKind.STARTED and kinds.count(EventKind.STARTED) == 1
            lifecycle = [LIFECYCLE[k] for k in kinds if k in LIFECYCLE]
            assert lifecycle[-1] == case.status
            assert kinds.count(EventKind.CANCELLED) <= 1
            assert kinds.count(EventKind.OFFER_PRESENTED) <= 1
            assert kinds.count(EventKind.OFFER_ACCEPTED) + kinds.count(
                EventKind.OFFER_DECLINED
            ) <= kinds.count(EventKind.OFFER_PRESENTED)
            self.check_offer(case, kinds)
            self.check_timestamps(case)

    def check_offer(self, case: CancellationCase, kinds: list[str]) -> None:
        presentations = list(OfferPresentation.objects.filter(case=case))
        assert len(presentations) == kinds.count(EventKind.OFFER_PRESENTED) <= 1
        if case.status == CaseStatus.SAVED:
            assert presentations[0].outcome == OfferOutcome.ACCEPTED
        elif presentations:
            assert presentations[0].outcome != OfferOutcome.ACCEPTED
            if case.status != CaseStatus.OPEN and case.status != CaseStatus.ABANDONED:
                # Confirming next to a pending offer declines it.
                assert presentations[0].outcome == OfferOutcome.DECLINED

    def check_timestamps(self, case: CancellationCase) -> None:
        status = case.status
        assert (case.cancelled_at is not None) == (
            status in (CaseStatus.CANCELLED, CaseStatus.REACTIVATED)
        )
        assert (case.saved_at is not None) == (status == CaseStatus.SAVED)
        assert (case.reactivated_at is not None) == (status == CaseStatus.REACTIVATED)
        assert (case.closed_at is None) == (status == CaseStatus.OPEN)
        if status == CaseStatus.CANCELLED:
            assert case.effective_at is not None
        if case.provider_sync == SyncStatus.PENDING:
            assert status in (CaseStatus.CANCELLED, CaseStatus.REACTIVATED)

    @invariant()
    def one_open_case_and_one_cancellation_in_force_per_subscription(self) -> None:
        mine = CancellationCase.objects.filter(customer=self.user)
        assert mine.filter(status=CaseStatus.OPEN).count() <= 1
        assert mine.filter(status=CaseStatus.CANCELLED).count() <= 1

    def teardown(self) -> None:
        FlakyBackend.down = False


# Examples and steps from the profile (tests/conftest.py): "ci" keeps `make test` small on two
# cores, "long" (`make reliability`) searches harder; GC_MACHINE_EXAMPLES=500 overrides either.
MACHINE_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    **(
        {"max_examples": int(os.environ["GC_MACHINE_EXAMPLES"])}
        if os.environ.get("GC_MACHINE_EXAMPLES")
        else {}
    ),
)


@override_settings(
    GRACEFUL_CANCEL=gc_settings(
        SUBSCRIPTION_BACKEND="tests.reliability.test_state_machine.FlakyBackend"
    )
)
def test_service_layer_state_machine(catalogue, plans):
    run_state_machine_as_test(CaseMachine, settings=MACHINE_SETTINGS)
