"""The retention desk in the admin: list, filters, search, case page, actions, permissions, scale."""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from django_graceful_cancel import services
from django_graceful_cancel.choices import CaseStatus, EventKind, OfferOutcome
from django_graceful_cancel.models import (
    CancellationCase,
    CaseEvent,
    FollowUp,
    MessageTemplate,
    OfferPresentation,
    Reason,
    RetentionOffer,
    StaffNote,
)
from django_graceful_cancel.models.cases import new_reference
from django_graceful_cancel.services import rollups

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_dashboard_cache")]


CHANGELIST = "admin:graceful_cancel_cancellationcase_changelist"
CHANGE = "admin:graceful_cancel_cancellationcase_change"


# --- data --------------------------------------------------------------------------------------


def bulk_cases(
    n: int,
    *,
    django_user_model: Any,
    seed: int = 1,
    events_per_case: int = 1,
    prefix: str = "bulk",
) -> list[CancellationCase]:
    """``n`` closed historical cases with customers, offers, notes and events (bulk inserts)."""
    rng = random.Random(seed)
    reasons = list(Reason.objects.order_by("pk"))
    offer = RetentionOffer.objects.get(slug="discount-30-3m")
    users = django_user_model.objects.bulk_create(
        [
            django_user_model(
                username=f"{prefix}{i}", email=f"{prefix}{i}@example.com", first_name=f"B{i}"
            )
            for i in range(n)
        ]
    )
    if users[0].pk is None:
        users = list(django_user_model.objects.filter(username__startswith=prefix).order_by("pk"))
    now = timezone.now()
    statuses = [CaseStatus.SAVED, CaseStatus.CANCELLED, CaseStatus.REACTIVATED]
    cases = CancellationCase.objects.bulk_create(
        [
            CancellationCase(
                reference=new_reference(),
                customer=user,
                subscription_ref=f"{prefix}:{i}",
                status=statuses[i % 3],
                reason=reasons[i % len(reasons)],
                root_cause=reasons[(i + 1) % len(reasons)] if i % 2 else None,
                plan="Standard",
                price=Decimal("12.99"),
                currency="EUR",
                billing_interval="month",
                tenure_days=rng.randint(10, 900),
                priority=rng.randint(0, 100),
                created_at=now - timedelta(days=rng.randint(1, 300)),
                survey_score=rng.randint(1, 5),
            )
            for i, user in enumerate(users)
        ]
    )
    if cases[0].pk is None:
        cases = list(
            CancellationCase.objects.filter(subscription_ref__startswith=f"{prefix}:").order_by(
                "pk"
            )
        )
    OfferPresentation.objects.bulk_create(
        [
            OfferPresentation(
                case=case,
                offer=offer,
                customer=case.customer,
                outcome=OfferOutcome.ACCEPTED
                if case.status == CaseStatus.SAVED
                else OfferOutcome.DECLINED,
            )
            for case in cases
        ]
    )
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(case=case, kind=EventKind.STARTED, actor_label="customer")
            for case in cases
            for _ in range(events_per_case)
        ]
    )
    StaffNote.objects.bulk_create([StaffNote(case=case, body="Called twice") for case in cases])
    return cases


def _staff_with(django_user_model: Any, username: str, codenames: list[str]) -> Any:
    user = django_user_model.objects.create_user(username, f"{username}@example.com", "pw")
    user.is_staff = True
    user.save()
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="graceful_cancel", codename__in=codenames)
    )
    return user


@pytest.fixture
def viewer(django_user_model: Any) -> Any:
    return _staff_with(django_user_model, "viewer", ["view_cancellationcase"])


@pytest.fixture
def desk_staff(django_user_model: Any) -> Any:
    return _staff_with(
        django_user_model, "desk", ["view_cancellationcase", "change_cancellationcase"]
    )


@pytest.fixture
def open_case(customer: Any, catalogue: Any) -> CancellationCase:
    case, _ = services.start_case(customer)
    services.record_reason(case, "price", detail="Too dear for me")
    services.present_offer(case)
    return case


@pytest.fixture
def cancelled_case(make_customer: Any, catalogue: Any) -> CancellationCase:
    case, _ = services.start_case(make_customer("bob", last_name="Builder"))
    services.record_reason(case, "competitor", preferred_channel="phone", contact_consent=True)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    return case


def inline_data(client: Any, case: CancellationCase) -> dict[str, Any]:
    """What the browser posts for the read-only inlines (management forms and row ids)."""
    page = client.get(reverse(CHANGE, args=[case.pk]))
    data: dict[str, Any] = {}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, field in formset.management_form.fields.items():
            value = formset.management_form.initial.get(name, field.initial)
            data[f"{formset.prefix}-{name}"] = "" if value is None else value
        for i, form in enumerate(formset.initial_forms):
            data[f"{formset.prefix}-{i}-{form._meta.model._meta.pk.name}"] = form.instance.pk
            data[f"{formset.prefix}-{i}-{formset.fk.name}"] = case.pk
    return data


def references(response: Any) -> list[str]:
    return [case.reference for case in response.context["cl"].result_list]


# --- list, ordering, filters, search -----------------------------------------------------------


def test_changelist_shows_the_queue_by_priority(superuser_client, open_case, cancelled_case):
    CancellationCase.objects.filter(pk=open_case.pk).update(priority=5)
    CancellationCase.objects.filter(pk=cancelled_case.pk).update(priority=50)
    response = superuser_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert references(response) == [cancelled_case.reference, open_case.reference]
    html = response.content.decode()
    for text in ("Alice", "Bob Builder", "Standard", "12.99 EUR / month", "Retention dashboard"):
        assert text in html
    header = [h.strip() for h in response.context["cl"].list_display]
    assert header[:3] == ["action_checkbox", "reference", "customer_name"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status__exact": "open"}, ["open"]),
        ({"status__exact": "cancelled"}, ["cancelled"]),
        ({"preferred_channel__exact": "phone"}, ["cancelled"]),
        ({"owner": "none"}, ["open", "cancelled"]),
        ({"plan": "Standard"}, ["open", "cancelled"]),
        ({"plan": "Premium"}, []),
        ({"value": "10to20"}, ["open", "cancelled"]),
        ({"value": "lt10"}, []),
    ],
)
def test_filters(superuser_client, open_case, cancelled_case, query, expected):
    by_name = {"open": open_case.reference, "cancelled": cancelled_case.reference}
    response = superuser_client.get(reverse(CHANGELIST), query)
    assert sorted(references(response)) == sorted(by_name[e] for e in expected)


def test_filter_by_reason_root_cause_owner_and_date(
    superuser_client, superuser, open_case, cancelled_case
):
    price = Reason.objects.get(slug="price")
    response = superuser_client.get(reverse(CHANGELIST), {"reason__id__exact": price.pk})
    assert references(response) == [open_case.reference]
    services.set_root_cause(cancelled_case, "missing-features", actor=superuser)
    cause = Reason.objects.get(slug="missing-features")
    response = superuser_client.get(reverse(CHANGELIST), {"root_cause__id__exact": cause.pk})
    assert references(response) == [cancelled_case.reference]
    services.assign_owner(open_case, superuser, actor=superuser)
    assert references(superuser_client.get(reverse(CHANGELIST), {"owner": "me"})) == [
        open_case.reference
    ]
    assert references(superuser_client.get(reverse(CHANGELIST), {"owner": str(superuser.pk)})) == [
        open_case.reference
    ]
    CancellationCase.objects.filter(pk=open_case.pk).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    response = superuser_client.get(
        reverse(CHANGELIST),
        {
            "created_at__gte": str(today - timedelta(days=7)),
            "created_at__lt": str(today + timedelta(days=1)),
        },
    )
    assert references(response) == [cancelled_case.reference]


@pytest.mark.parametrize(
    ("term", "who"),
    [("bob@example.com", "cancelled"), ("Builder", "cancelled"), ("alice", "open")],
)
def test_search_by_customer(superuser_client, open_case, cancelled_case, term, who):
    by_name = {"open": open_case.reference, "cancelled": cancelled_case.reference}
    response = superuser_client.get(reverse(CHANGELIST), {"q": term})
    assert references(response) == [by_name[who]]


def test_search_by_reference(superuser_client, open_case, cancelled_case):
    response = superuser_client.get(reverse(CHANGELIST), {"q": cancelled_case.reference})
    assert references(response) == [cancelled_case.reference]
    typed = f"  {cancelled_case.reference.lower()} "
    assert references(superuser_client.get(reverse(CHANGELIST), {"q": typed})) == [
        cancelled_case.reference
    ]


# --- the case page -----------------------------------------------------------------------------


def test_case_page_shows_history_offers_follow_ups_and_notes(
    superuser_client, superuser, open_case
):
    services.add_note(open_case, "Offered to call back on Monday", actor=superuser)
    services.confirm_cancellation(open_case)
    response = superuser_client.get(reverse(CHANGE, args=[open_case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Too dear for me" in html  # the stated reason in the customer's words
    assert "30% off for the next 3 months" in html  # the offer inline
    assert "Offered to call back on Monday" in html  # staff notes
    assert "Cancellation confirmed" in html  # timeline
    assert FollowUp.objects.filter(case=open_case).exists()
    assert "Follow-ups" in html or "follow-ups" in html
    assert "Export customer data (JSON)" in html
    # Timeline, offers, follow-ups and notes are read-only: no inline management forms to post.
    for formset in response.context["inline_admin_formsets"]:
        assert not formset.has_add_permission and not formset.has_change_permission


def test_saving_the_case_page_goes_through_the_services(superuser_client, superuser, open_case):
    cause = Reason.objects.get(slug="unmet-expectations")
    response = superuser_client.post(
        reverse(CHANGE, args=[open_case.pk]),
        {
            "owner": superuser.pk,
            "root_cause": cause.pk,
            "root_cause_detail": "Expected offline mode",
            "new_note": "Customer will think about it",
            "_continue": "1",
            **inline_data(superuser_client, open_case),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    open_case.refresh_from_db()
    assert open_case.owner == superuser
    assert open_case.root_cause == cause
    assert open_case.root_cause_detail == "Expected offline mode"
    note = StaffNote.objects.get(case=open_case)
    assert (note.body, note.author) == ("Customer will think about it", superuser)
    events = {e.kind: e for e in open_case.events.all()}
    for kind in (EventKind.OWNER_ASSIGNED, EventKind.ROOT_CAUSE_SET, EventKind.NOTE_ADDED):
        assert events[kind].actor == superuser
        assert events[kind].actor_label == "staff:boss"
    # The status and what the customer said cannot be changed from the page.
    superuser_client.post(
        reverse(CHANGE, args=[open_case.pk]),
        {
            "status": "saved",
            "reason_detail": "x",
            "root_cause": cause.pk,
            "owner": superuser.pk,
            **inline_data(superuser_client, open_case),
        },
    )
    open_case.refresh_from_db()
    assert (open_case.status, open_case.reason_detail) == ("open", "Too dear for me")


def test_owner_choices_are_staff_only(superuser_client, open_case):
    response = superuser_client.get(reverse(CHANGE, args=[open_case.pk]))
    owners = response.context["adminform"].form.fields["owner"].queryset
    assert all(user.is_staff for user in owners)
    assert not owners.filter(username="alice").exists()


# --- actions -----------------------------------------------------------------------------------


def _action(
    client: Any, action: str, cases: list[CancellationCase], follow: bool = False, **extra: Any
) -> Any:
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [c.pk for c in cases], **extra},
        follow=follow,
    )


def test_assign_to_me_and_release(superuser_client, superuser, open_case, cancelled_case):
    response = _action(superuser_client, "assign_to_me", [open_case, cancelled_case])
    assert response.status_code == 302
    assert set(CancellationCase.objects.values_list("owner", flat=True)) == {superuser.pk}
    assert CaseEvent.objects.filter(kind=EventKind.OWNER_ASSIGNED, actor=superuser).count() == 2
    _action(superuser_client, "release", [open_case])
    open_case.refresh_from_db()
    assert open_case.owner is None


def test_set_root_cause_action_asks_then_applies(
    superuser_client, superuser, open_case, cancelled_case
):
    page = _action(superuser_client, "set_root_cause", [open_case, cancelled_case])
    assert page.status_code == 200
    assert "Set the root cause" in page.content.decode()
    cause = Reason.objects.get(slug="customer-service")
    response = _action(
        superuser_client,
        "set_root_cause",
        [open_case, cancelled_case],
        apply="1",
        root_cause=cause.pk,
        detail="Ticket left unanswered",
    )
    assert response.status_code == 302
    for case in (open_case, cancelled_case):
        case.refresh_from_db()
        assert (case.root_cause, case.root_cause_detail) == (cause, "Ticket left unanswered")
        assert case.events.filter(kind=EventKind.ROOT_CAUSE_SET, actor=superuser).exists()


def test_mark_call_done_closes_the_call_task(superuser_client, superuser, cancelled_case):
    from django_graceful_cancel.models import CallTask

    _action(
        superuser_client, "mark_call_done", [cancelled_case], apply="1", outcome="Left a message"
    )
    event = cancelled_case.events.get(kind=EventKind.CALL_DONE)
    assert event.actor == superuser and event.data == {"outcome": "Left a message"}
    assert StaffNote.objects.get(case=cancelled_case).body == "Left a message"
    assert not CallTask.objects.filter(case=cancelled_case, status="open").exists()


def test_schedule_and_cancel_follow_ups(superuser_client, superuser, cancelled_case):
    FollowUp.objects.filter(case=cancelled_case).delete()
    _action(superuser_client, "schedule_followups", [cancelled_case])
    scheduled = FollowUp.objects.filter(case=cancelled_case)
    assert scheduled.exists()
    assert cancelled_case.events.filter(
        kind=EventKind.FOLLOWUPS_SCHEDULED, actor=superuser
    ).exists()
    _action(superuser_client, "cancel_followups", [cancelled_case])
    assert not FollowUp.objects.filter(case=cancelled_case, status="scheduled").exists()
    assert cancelled_case.events.filter(
        kind=EventKind.FOLLOWUPS_CANCELLED, actor=superuser
    ).exists()


def test_schedule_follow_ups_refuses_an_open_case(superuser_client, open_case):
    response = _action(superuser_client, "schedule_followups", [open_case], follow=True)
    assert "can no longer be changed" in response.content.decode()
    assert not FollowUp.objects.filter(case=open_case).exists()


def test_export_csv(superuser_client, open_case, cancelled_case):
    response = _action(superuser_client, "export_csv", [open_case, cancelled_case])
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["reference"] for r in rows} == {open_case.reference, cancelled_case.reference}
    by_ref = {r["reference"]: r for r in rows}
    assert by_ref[open_case.reference]["reason"] == "price"
    assert by_ref[cancelled_case.reference]["status"] == "cancelled"
    assert by_ref[open_case.reference]["price"] == "12.99"


# --- permissions -------------------------------------------------------------------------------


def test_view_only_staff_see_but_cannot_change(client, viewer, open_case):
    client.force_login(viewer)
    listing = client.get(reverse(CHANGELIST))
    assert listing.status_code == 200
    actions = [name for name, _label in listing.context["action_form"].fields["action"].choices]
    assert actions == ["", "export_csv"]
    page = client.get(reverse(CHANGE, args=[open_case.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="new_note"' not in html
    assert "Export customer data" not in html
    # The timeline is there for them too.
    assert "Reason recorded" in html
    post = client.post(reverse(CHANGE, args=[open_case.pk]), {"owner": viewer.pk})
    assert post.status_code == 403
    _action(client, "assign_to_me", [open_case])
    open_case.refresh_from_db()
    assert open_case.owner is None
    assert (
        client.post(
            reverse("admin:graceful_cancel_export_customer", args=[open_case.pk])
        ).status_code
        == 403
    )
    assert (
        client.get(reverse("admin:graceful_cancel_erase_customer", args=[open_case.pk])).status_code
        == 403
    )
    assert client.get(reverse("admin:graceful_cancel_dashboard")).status_code == 200


def test_desk_staff_with_change_permission_act(client, desk_staff, open_case):
    client.force_login(desk_staff)
    _action(client, "assign_to_me", [open_case])
    open_case.refresh_from_db()
    assert open_case.owner == desk_staff


def test_staff_without_the_app_permissions_see_nothing(client, staff_user, open_case):
    client.force_login(staff_user)
    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert client.get(reverse("admin:graceful_cancel_dashboard")).status_code == 403


def test_customers_are_sent_to_the_login(client, customer, open_case):
    client.force_login(customer)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_nobody_adds_or_deletes_cases_here(superuser_client, open_case):
    assert (
        superuser_client.get(reverse("admin:graceful_cancel_cancellationcase_add")).status_code
        == 403
    )
    assert (
        superuser_client.get(
            reverse("admin:graceful_cancel_cancellationcase_delete", args=[open_case.pk])
        ).status_code
        == 403
    )


# --- catalogue ---------------------------------------------------------------------------------


def test_message_template_preview_renders_sample_data(superuser_client, catalogue):
    template = MessageTemplate.objects.create(
        reason=Reason.objects.get(slug="price"),
        stage="thank_you",
        channel="email",
        language="en",
        subject="Thanks, {{ name }}",
        body="Your {{ plan }} plan ends on {{ effective_at|date:'Y' }}. Ref {{ reference }}",
    )
    response = superuser_client.get(
        reverse("admin:graceful_cancel_messagetemplate_change", args=[template.pk])
    )
    html = response.content.decode()
    assert "Thanks, Alex" in html
    assert "Your Premium plan ends on" in html and "GC-SAMP-LE00-0000" in html


def test_offer_admin_shows_reasons_and_cost(superuser_client, catalogue):
    response = superuser_client.get(reverse("admin:graceful_cancel_retentionoffer_changelist"))
    html = response.content.decode()
    assert "0.9 x monthly price" in html  # 30% off for 3 months
    assert "price" in html


def test_experiment_admin_pages(superuser_client, catalogue):
    response = superuser_client.get(reverse("admin:graceful_cancel_offerexperiment_add"))
    assert response.status_code == 200
    assert (
        superuser_client.get(reverse("admin:graceful_cancel_privacyrequest_changelist")).status_code
        == 200
    )
    assert (
        superuser_client.get(reverse("admin:graceful_cancel_savecheck_changelist")).status_code
        == 200
    )


# --- scale: a constant number of queries -------------------------------------------------------


@pytest.mark.parametrize("size", [5, 200])
def test_changelist_queries_do_not_grow(
    size, superuser_client, catalogue, django_user_model, django_assert_num_queries
):
    bulk_cases(size, django_user_model=django_user_model)
    ContentType.objects.clear_cache()  # measured cold, as on a fresh process
    with django_assert_num_queries(CHANGELIST_QUERIES):
        response = superuser_client.get(reverse(CHANGELIST))
    assert len(response.context["cl"].result_list) == min(size, 50)


@pytest.mark.parametrize("size", [5, 200])
def test_case_page_queries_do_not_grow(
    size, superuser_client, catalogue, django_user_model, django_assert_num_queries
):
    case = bulk_cases(1, django_user_model=django_user_model, events_per_case=size)[0]
    StaffNote.objects.bulk_create([StaffNote(case=case, body=f"n{i}") for i in range(size)])
    ContentType.objects.clear_cache()  # measured cold, as on a fresh process
    with django_assert_num_queries(CASE_PAGE_QUERIES):
        response = superuser_client.get(reverse(CHANGE, args=[case.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("size", [5, 200])
def test_dashboard_queries_do_not_grow(
    size, superuser_client, catalogue, django_user_model, django_assert_num_queries
):
    bulk_cases(size, django_user_model=django_user_model)
    # The rollups are brought up to date as the periodic job does: the first view after a bulk
    # load recomputes its days, whose INSERT batches depend on the database's limit on query
    # parameters (an older SQLite splits them more), not on the dashboard.
    rollups.refresh(settle_seconds=0)
    ContentType.objects.clear_cache()  # measured cold, as on a fresh process
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = superuser_client.get(reverse("admin:graceful_cancel_dashboard"))
    assert response.context["data"]["summary"]["total"] == size


# Fixed, whatever the number of cases, events or notes (the same at both sizes above):
# list: session, user, plan filter, owner filter, reason choices (x2 filters), count, page.
CHANGELIST_QUERIES = 8
# case page: session, user, case (+ customer, reasons, owner, experiment), one per inline (offer,
# offer to apply, withdrawal and refund, follow-ups, call tasks, notes, save checks, timeline,
# follow-up answers, classifier suggestions), experiment arm, content type, reason and owner
# choices.
CASE_PAGE_QUERIES = 17
# dashboard: session, user, the catalogue (reasons, offers) and the fixed aggregates (one of them
# the offers staff apply). The case sections read the rollups (services/rollups.py), up to date
# here as the periodic job keeps them: the watermarks under their lock, a look for new rows per
# source, then one read per facet (and one for the save checks' cutoff day). The revenue section
# (services/revenue.py) adds its own fixed queries: reasons, questions, cases by path, 3 cohorts
# (and the answers to the first single-choice questions, when a reason has one: none here). The
# insights section (insights/figures.py): the free text of the range, and the suggestions'
# acceptance (2).
DASHBOARD_QUERIES = 39


def test_call_queue_marks_calls_done_through_the_service(
    superuser_client, superuser, cancelled_case
):
    from django_graceful_cancel.models import CallTask

    task = CallTask.objects.create(case=cancelled_case, stage="thank_you", phone="+34600111222")
    listing = superuser_client.get(reverse("admin:graceful_cancel_calltask_changelist"))
    assert "+34600111222" in listing.content.decode()
    superuser_client.post(
        reverse("admin:graceful_cancel_calltask_changelist"),
        {"action": "mark_done", "_selected_action": [task.pk]},
    )
    task.refresh_from_db()
    assert task.status == "done" and task.done_at is not None
    assert cancelled_case.events.filter(kind=EventKind.CALL_DONE, actor=superuser).exists()
    # Follow-ups are listed read-only.
    response = superuser_client.get(reverse("admin:graceful_cancel_followup_changelist"))
    assert response.status_code == 200
    assert "confirmation" in response.content.decode()
    assert superuser_client.get(reverse("admin:graceful_cancel_followup_add")).status_code == 403


# --- bad input never makes a 500 ----------------------------------------------------------------


def test_message_template_with_bad_syntax_is_refused_per_field(superuser_client, catalogue):
    from django.core.exceptions import ValidationError

    template = MessageTemplate(
        stage="flow_message",
        channel="email",
        language="en",
        subject="Hi {{ name|no_such_filter }}",
        body="Hello {% if %}",
        html_body="<p>{% endfor %}</p>",
    )
    with pytest.raises(ValidationError) as raised:
        template.full_clean()
    assert set(raised.value.message_dict) == {"subject", "body", "html_body"}
    MessageTemplate(stage="flow_message", channel="page", language="en", body="{{ name }}").clean()

    response = superuser_client.post(
        reverse("admin:graceful_cancel_messagetemplate_add"),
        {
            "stage": "flow_message",
            "channel": "page",
            "language": "es",
            "subject": "",
            "body": "{% if %}",
            "html_body": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "not valid Django template syntax" in response.content.decode()
    assert not MessageTemplate.objects.filter(language="es").exists()


def test_message_template_preview_shows_a_render_error(superuser_client, catalogue):
    # Compiles (so clean() lets it through) but fails when rendered.
    template = MessageTemplate.objects.create(
        stage="thank_you", channel="email", language="en", subject="x", body="{% url 'nope' %}"
    )
    response = superuser_client.get(
        reverse("admin:graceful_cancel_messagetemplate_change", args=[template.pk])
    )
    assert response.status_code == 200
    assert "This template fails to render" in response.content.decode()


@pytest.mark.parametrize("owner", ["²", "99999999999999999999999", "1" * 19, "-1", "1.5"])
def test_owner_filter_ignores_values_that_are_not_a_staff_id(superuser_client, catalogue, owner):
    response = superuser_client.get(
        reverse("admin:graceful_cancel_cancellationcase_changelist"), {"owner": owner}
    )
    assert response.status_code == 200


def test_owner_filter_still_filters_by_id(superuser_client, catalogue, customer, staff_user):
    case, _ = services.start_case(customer)
    services.assign_owner(case, staff_user, actor=staff_user)
    url = reverse("admin:graceful_cancel_cancellationcase_changelist")
    assert (
        case.reference in superuser_client.get(url, {"owner": str(staff_user.pk)}).content.decode()
    )
    other = str(staff_user.pk + 1000)
    assert case.reference not in superuser_client.get(url, {"owner": other}).content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"end": "9999-12-31"},
        {"start": "9999-12-31", "end": "9999-12-31"},
        {"end": "9999-12-31", "format": "csv"},
    ],
)
def test_dashboard_refuses_dates_datetime_cannot_hold(superuser_client, catalogue, query):
    response = superuser_client.get(reverse("admin:graceful_cancel_dashboard"), query)
    assert response.status_code == 200
    if "format" not in query:
        assert "Choose a date before the year 9999." in response.content.decode()


def test_dashboard_accepts_the_last_usable_year(superuser_client, catalogue):
    response = superuser_client.get(
        reverse("admin:graceful_cancel_dashboard"), {"start": "9998-12-31", "end": "9998-12-31"}
    )
    assert response.status_code == 200
    assert "Choose a date before" not in response.content.decode()
