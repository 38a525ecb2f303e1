"""A reason's follow-up questions: the input rules of the answers, recording them, reading them.

A reason may carry a few structured questions (``ReasonQuestion``): a single choice, a 0-10
"how likely are you to come back", a short text. They are always optional and asked on one
screen only, the offer page that follows the reason (views/flow.py), or through the reason step
of the API (``POST cases/{reference}/reason/`` with ``answers``); never under a profile whose
rules forbid them (``ComplianceRules.questions``: de, fr, eu), nor on the withdrawal and
declaration pages, which do not ask them at all.

* ``check_answers``: the input rules (``InvalidInput`` on ``answers.<key>``); only reads;
* ``record_answers``: store them on an open case, one row per question, changed in place until
  the case closes; a timeline event and ``signals.questions_answered``;
* ``shown_questions`` / ``current_answers``: what the page and the API show;
* ``answers_by_question``: the figures of a date range, for the dashboard and the summary.

Answers are personal data: exported with the case and erased with the customer's words
(services/privacy.py: the text goes, the choice and the score stay as anonymous figures).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import signals
from ..choices import CaseStatus, EventKind, QuestionKind
from ..compliance import rules_for
from ..exceptions import FieldError, InvalidInput
from ..models import CancellationCase, QuestionAnswer, Reason, ReasonQuestion
from ..models.questions import LIKELIHOOD_MAX, active_questions
from .core import Actor, lock_case, record, require
from .inputs import has_forbidden_characters

__all__ = [
    "ANSWERS_FIELD",
    "FIELD_PREFIX",
    "CheckedAnswer",
    "ShownQuestion",
    "answers_by_question",
    "check_answers",
    "current_answers",
    "field_name",
    "posted_answers",
    "questions_for",
    "record_answers",
    "shown_questions",
]

#: The input field that carries the answers (API body, ``flow.check_reason``); an error about
#: one answer is on ``answers.<question key>``.
ANSWERS_FIELD = "answers"
#: Prefix of each question's field on the page's form (``question-<key>``).
FIELD_PREFIX = "question-"

UNKNOWN_QUESTION = _("This question is not asked for the reason you chose.")
UNKNOWN_CHOICE = _("Please choose one of the answers listed.")
OUT_OF_RANGE = _("Please give a whole number from 0 to 10.")
NOT_TEXT = _("Please write your answer as text.")
NOT_A_MAPPING = _("Answers must be an object of question keys and answers.")
NOT_ASKED = _("Follow-up questions are not asked under the rules of this cancellation.")
TEXT_INVALID = _("This text contains characters that cannot be stored.")


def field_name(key: str) -> str:
    """The field an error about the answer to question ``key`` is on."""
    return f"{ANSWERS_FIELD}.{key}"


@dataclass(frozen=True)
class CheckedAnswer:
    """One answer that passed the rules; all values empty means "no answer" (clears it)."""

    question: ReasonQuestion
    choice: str = ""
    score: int | None = None
    text: str = ""

    @property
    def empty(self) -> bool:
        return not self.choice and self.score is None and not self.text


def questions_for(reason: Reason | None, profile: str | None = None) -> list[ReasonQuestion]:
    """The questions asked after ``reason`` under ``profile``'s rules (none where they forbid
    them), from the cached catalogue: no query."""
    if reason is None or not rules_for(profile).questions:
        return []
    return active_questions(reason.pk)


def _check_one(question: ReasonQuestion, raw: Any) -> CheckedAnswer:
    """``raw`` as the answer to ``question``; raises ``InvalidInput`` on its field."""
    name = field_name(question.key)
    if isinstance(raw, str):
        raw = raw.strip()
    if raw is None or raw == "":
        return CheckedAnswer(question)
    if question.kind == QuestionKind.CHOICE:
        if not isinstance(raw, str) or raw not in question.choice_keys():
            raise InvalidInput.single(name, "unknown_choice", UNKNOWN_CHOICE)
        return CheckedAnswer(question, choice=raw)
    if question.kind == QuestionKind.LIKELIHOOD:
        # A JSON true is an int to Python, never a score.
        if isinstance(raw, bool) or not isinstance(raw, (int, str)):
            raise InvalidInput.single(name, "out_of_range", OUT_OF_RANGE)
        if isinstance(raw, str) and not (raw.isascii() and raw.isdigit()):
            raise InvalidInput.single(name, "out_of_range", OUT_OF_RANGE)
        score = int(raw)
        if not 0 <= score <= LIKELIHOOD_MAX:
            raise InvalidInput.single(name, "out_of_range", OUT_OF_RANGE)
        return CheckedAnswer(question, score=score)
    if not isinstance(raw, str):
        raise InvalidInput.single(name, "invalid", NOT_TEXT)
    if has_forbidden_characters(raw):
        raise InvalidInput.single(name, "invalid_characters", TEXT_INVALID)
    if len(raw) > question.max_length:
        message = ngettext(
            "Please keep your answer to %(limit)d character or fewer.",
            "Please keep your answer to %(limit)d characters or fewer.",
            question.max_length,
        ) % {"limit": question.max_length}
        raise InvalidInput.single(name, "max_length", message)
    return CheckedAnswer(question, text=raw)


def check_answers(reason: Reason | None, answers: Any) -> tuple[CheckedAnswer, ...]:
    """The answers to ``reason``'s questions, checked; raises ``InvalidInput`` naming every bad
    one (``answers.<key>``). Only reads (the cached catalogue: no query).

    ``answers`` maps a question's key to its answer: a choice's key, a whole number from 0 to
    10 (a number or a string of digits), or text of at most the question's ``max_length``
    characters. None or "" clears an answer; a question left out is left as it was. A key the
    reason does not ask is refused, so a typo never passes silently.
    """
    if answers is None or answers == {}:
        return ()
    if not isinstance(answers, Mapping):
        raise InvalidInput.single(ANSWERS_FIELD, "invalid", NOT_A_MAPPING)
    asked = {q.key: q for q in active_questions(reason.pk if reason else None)}
    errors: dict[str, list[FieldError]] = {}
    checked: list[CheckedAnswer] = []
    for key, raw in answers.items():
        question = asked.get(str(key))
        if question is None:
            errors[field_name(str(key))] = [FieldError("unknown_question", UNKNOWN_QUESTION)]
            continue
        try:
            checked.append(_check_one(question, raw))
        except InvalidInput as error:
            errors.update(error.errors)
    if errors:
        raise InvalidInput(errors)
    order = {q.pk: index for index, q in enumerate(asked.values())}
    return tuple(sorted(checked, key=lambda answer: order[answer.question.pk]))


def posted_answers(questions: Iterable[ReasonQuestion], data: Mapping[str, Any]) -> dict[str, Any]:
    """The page's answers (field ``question-<key>``) as ``check_answers`` takes them: every
    question shown is sent, so a field left empty clears its answer."""
    return {q.key: data.get(FIELD_PREFIX + q.key, "") for q in questions}


def record_answers(
    case: CancellationCase, answers: Iterable[CheckedAnswer], *, actor: Actor = None
) -> list[QuestionAnswer]:
    """Store the checked answers on an open case: one row per question, changed in place; an
    empty answer removes the row. Returns the case's answers to its reason's questions.

    Answers to another reason's questions (the customer changed their reason) are removed.
    Raises ``InvalidTransition("case_not_open")`` once the case is decided, and
    ``InvalidInput`` when the case's profile forbids questions or an answer is to a question
    its reason does not ask. Records ``questions_answered`` (which keys were answered and
    cleared; never the words) and sends ``signals.questions_answered`` when anything changed.
    """
    answers = list(answers)
    with transaction.atomic():
        case = lock_case(case)
        require(case, [CaseStatus.OPEN], "case_not_open")
        if not rules_for(case.compliance_profile).questions:
            raise InvalidInput.single(ANSWERS_FIELD, "questions_not_asked", NOT_ASKED)
        wrong = [a for a in answers if a.question.reason_id != case.reason_id]
        if wrong:
            raise InvalidInput(
                {
                    field_name(a.question.key): [FieldError("unknown_question", UNKNOWN_QUESTION)]
                    for a in wrong
                }
            )
        rows = list(QuestionAnswer.objects.filter(case=case).select_related("question"))
        stored = {row.question_id: row for row in rows if row.question_id is not None}
        # Answers to another reason's questions, or to deleted ones: no longer what was said.
        stale = [
            row.pk
            for row in rows
            if row.question is None or row.question.reason_id != case.reason_id
        ]
        answered: list[str] = []
        cleared: list[str] = []
        for answer in answers:
            row = stored.get(answer.question.pk)
            if answer.empty:
                if row is not None:
                    row.delete()
                    cleared.append(answer.question.key)
                continue
            values = {"choice": answer.choice, "score": answer.score, "text": answer.text}
            if row is None:
                QuestionAnswer.objects.create(
                    case=case,
                    question=answer.question,
                    question_key=answer.question.key,
                    kind=answer.question.kind,
                    **values,
                )
            elif any(getattr(row, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(row, name, value)
                row.save(update_fields=[*values, "updated_at"])
            else:
                continue
            answered.append(answer.question.key)
        if stale:
            QuestionAnswer.objects.filter(pk__in=stale).delete()
        if not answered and not cleared:
            return _current(case)
        current = _current(case)
        record(
            case,
            EventKind.QUESTIONS_ANSWERED,
            signals.questions_answered,
            actor=actor,
            data={"answered": answered, "cleared": cleared},
            answers=current,
        )
    return current


def _current(case: CancellationCase) -> list[QuestionAnswer]:
    if case.reason_id is None:
        return []
    return list(
        QuestionAnswer.objects.filter(case=case, question__reason_id=case.reason_id).order_by(
            "question__order", "question__pk"
        )
    )


def current_answers(case: CancellationCase) -> dict[str, str | int]:
    """The case's answers to its reason's questions by key: no query when the reason asks
    none, one otherwise."""
    if case.reason_id is None or not active_questions(case.reason_id):
        return {}
    found: dict[str, str | int] = {}
    for row in QuestionAnswer.objects.filter(case=case, question__reason_id=case.reason_id):
        value = row.value
        if value is not None and value != "":
            found[row.question_key] = value
    return found


@dataclass(frozen=True)
class ShownQuestion:
    """A question as the page shows it, in the active language, with its current value."""

    question: ReasonQuestion
    prompt: str
    name: str
    value: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.question.kind

    @property
    def key(self) -> str:
        return self.question.key

    @property
    def max_length(self) -> int:
        return self.question.max_length

    @property
    def scale(self) -> list[str]:
        """The values of a 0-10 question, as the page's radio buttons."""
        return [str(n) for n in range(LIKELIHOOD_MAX + 1)]


def shown_questions(
    case: CancellationCase,
    *,
    posted: Mapping[str, Any] | None = None,
    errors: Mapping[str, Iterable[Any]] | None = None,
) -> list[ShownQuestion]:
    """What the offer page asks: the case's reason's questions under its profile's rules, each
    with the value the customer sent (``posted``, the form shown again) or stored. No query
    when there is nothing to ask; one (the stored answers) otherwise."""
    questions = questions_for(case.reason, case.compliance_profile)
    if not questions:
        return []
    values = (
        {k: str(v or "") for k, v in posted_answers(questions, posted).items()}
        if posted is not None
        else {k: str(v) for k, v in current_answers(case).items()}
    )
    errors = errors or {}
    return [
        ShownQuestion(
            question=q,
            prompt=q.localized_prompt,
            name=FIELD_PREFIX + q.key,
            value=values.get(q.key, ""),
            choices=q.localized_choices() if q.kind == QuestionKind.CHOICE else [],
            errors=[str(m) for m in errors.get(field_name(q.key), [])],
        )
        for q in questions
    ]


def answers_by_question(start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The answers of the cases started in ``[start, end)``, per question: for a single choice
    the count of each choice, for 0-10 the count of each score and the mean, for text the number
    of answers (the words stay on the cases). Only answers to the case's current reason count.

    One query. Each item: ``reason`` (slug), ``question`` (key), ``kind``, ``prompt``,
    ``answers`` (how many), and ``choices`` / ``scores`` + ``mean``.
    """
    rows = (
        QuestionAnswer.objects.filter(
            case__created_at__gte=start,
            case__created_at__lt=end,
            question__isnull=False,
            question__reason_id=F("case__reason_id"),
        )
        .select_related("question__reason")
        .order_by("question__reason__order", "question__order", "question__pk")
    )
    figures: dict[int, dict[str, Any]] = {}
    counters: dict[int, Counter[Any]] = {}
    for row in rows:
        question = row.question
        assert question is not None  # filtered above
        item = figures.get(question.pk)
        if item is None:
            item = figures[question.pk] = {
                "reason": question.reason.slug,
                "question": question.key,
                "kind": question.kind,
                "prompt": question.prompt,
                "answers": 0,
            }
            counters[question.pk] = Counter()
        item["answers"] += 1
        if row.kind == QuestionKind.CHOICE:
            counters[question.pk][row.choice] += 1
        elif row.kind == QuestionKind.LIKELIHOOD and row.score is not None:
            counters[question.pk][row.score] += 1
    for pk, item in figures.items():
        counted = counters[pk]
        if item["kind"] == QuestionKind.CHOICE:
            item["choices"] = dict(counted.most_common())
        elif item["kind"] == QuestionKind.LIKELIHOOD:
            item["scores"] = {n: counted.get(n, 0) for n in range(LIKELIHOOD_MAX + 1)}
            total = sum(counted.values())
            item["mean"] = (
                round(sum(n * c for n, c in counted.items()) / total, 2) if total else None
            )
    return list(figures.values())
