"""Every shipped language ships complete (issue 16).

A *shipped language* is a directory under ``django_graceful_cancel/locale`` or
``example_project/shop/locale``. For each of them:

* the catalogue has no untranslated and no fuzzy entry, and the compiled .mo matches the .po;
* every string of the source is in it (a fresh ``makemessages`` finds nothing new);
* each translation keeps the placeholders of its source string (``%(name)s``, ``%s``, ``%%``,
  ``{name}``), so no message loses the customer's name or a date;

and for each language the site enables (``settings.LANGUAGES``), every reason x stage x channel
message renders with no English sentence left in it: a reason or stage template missing in one
of those languages fails the suite.
"""

from __future__ import annotations

import gettext
import html
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.html import strip_tags

from tests.support import gc_settings, require_service

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "django_graceful_cancel"
SHOP = ROOT / "example_project" / "shop"

#: The translated projects: where their catalogues live and how makemessages runs there.
PROJECTS: dict[str, dict[str, Any]] = {
    "package": {
        "root": PACKAGE,
        "settings": "tests.settings",
        "path": [ROOT],
    },
    "shop": {
        "root": SHOP,
        "settings": "config.settings",
        "path": [ROOT / "example_project", ROOT],
    },
}


def shipped() -> list[tuple[str, str]]:
    """(project, language) for every catalogue directory that ships."""
    found = []
    for name, project in PROJECTS.items():
        locale = project["root"] / "locale"
        for directory in sorted(locale.iterdir() if locale.is_dir() else []):
            if directory.is_dir():
                found.append((name, directory.name))
    return found


SHIPPED = shipped()
SHIPPED_IDS = [f"{project}-{language}" for project, language in SHIPPED]


def po_path(project: str, language: str) -> Path:
    return PROJECTS[project]["root"] / "locale" / language / "LC_MESSAGES" / "django.po"


# --- reading a .po ----------------------------------------------------------------------------

_ENTRY = re.compile(
    r'^(?P<flags>(?:#.*\n)*)(?:msgctxt\s+(?P<ctx>(?:".*"\n)+))?msgid\s+(?P<id>(?:".*"\n)+)'
    r'(?:msgid_plural\s+(?P<plural>(?:".*"\n)+))?(?P<strs>(?:msgstr(?:\[\d\])?\s+(?:".*"\n)+)+)',
    re.MULTILINE,
)


def _join(block: str) -> str:
    return "".join(
        bytes(line.strip()[1:-1], "utf-8")
        .decode("unicode_escape")
        .encode("latin-1")
        .decode("utf-8")
        for line in block.strip().splitlines()
    )


def entries(path: Path) -> list[dict[str, Any]]:
    """The entries of a .po file (without the header), each with its translations in order."""
    found = []
    for m in _ENTRY.finditer(path.read_text(encoding="utf-8") + "\n"):
        msgid = _join(m["id"])
        if not msgid:
            continue  # the header
        strs = [_join(s) for s in re.findall(r'msgstr(?:\[\d\])?\s+((?:".*"\n)+)', m["strs"])]
        found.append(
            {
                "ctx": _join(m["ctx"]) if m["ctx"] else None,
                "id": msgid,
                "plural": _join(m["plural"]) if m["plural"] else None,
                "strs": strs,
                "fuzzy": bool(re.search(r"^#,.*\bfuzzy\b", m["flags"], re.MULTILINE)),
            }
        )
    return found


# --- placeholders -----------------------------------------------------------------------------

#: What a translation must carry over: named and positional printf placeholders, a literal
#: percent sign of a format string, and str.format names.
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|%%|\{\w+\}")


def placeholders(text: str) -> Counter[str]:
    return Counter(_PLACEHOLDER.findall(text))


def placeholder_problems(entry: dict[str, Any]) -> list[str]:
    """How the translations of ``entry`` differ from its source in their placeholders."""
    problems = []
    if entry["plural"] is None:
        wanted = placeholders(entry["id"])
        for text in entry["strs"]:
            if text and placeholders(text) != wanted:
                problems.append(
                    f"{entry['id']!r}: {sorted(placeholders(text).elements())} "
                    f"instead of {sorted(wanted.elements())}"
                )
        return problems
    # A singular form may say "a year" instead of "%(years)s years"; the last form (the one
    # used for most numbers) carries everything the plural source has.
    allowed = set(placeholders(entry["id"])) | set(placeholders(entry["plural"]))
    for text in entry["strs"]:
        extra = set(placeholders(text)) - allowed
        if text and extra:
            problems.append(f"{entry['id']!r}: unknown {sorted(extra)}")
    last = entry["strs"][-1] if entry["strs"] else ""
    missing = set(placeholders(entry["plural"])) - set(placeholders(last))
    if last and missing:
        problems.append(f"{entry['plural']!r}: lost {sorted(missing)}")
    return problems


def test_the_placeholder_check_catches_a_lost_or_renamed_placeholder():
    """The check the catalogues pass is not vacuous."""
    lost = {"ctx": None, "id": "Hello %(name)s,", "plural": None, "strs": ["Hallo,"]}
    renamed = {"ctx": None, "id": "Hello %(name)s,", "plural": None, "strs": ["Hallo %(nom)s,"]}
    kept = {"ctx": None, "id": "Hello %(name)s,", "plural": None, "strs": ["Hallo %(name)s,"]}
    plural = {
        "ctx": None,
        "id": "a year",
        "plural": "%(years)s years",
        "strs": ["ein Jahr", "Jahre"],
    }
    assert placeholder_problems(lost)
    assert placeholder_problems(renamed)
    assert placeholder_problems(kept) == []
    assert placeholder_problems(plural)
    assert placeholder_problems({**plural, "strs": ["ein Jahr", "%(years)s Jahre"]}) == []


# --- the catalogues ---------------------------------------------------------------------------


def test_every_language_the_site_enables_ships():
    """A language in settings.LANGUAGES (other than the source, English) has a catalogue."""
    enabled = {code.split("-")[0] for code, _name in settings.LANGUAGES} - {"en"}
    package = {language for project, language in SHIPPED if project == "package"}
    assert enabled <= package, f"no catalogue for {sorted(enabled - package)}"
    assert {"es", "de", "fr"} <= package


@pytest.mark.parametrize(("project", "language"), SHIPPED, ids=SHIPPED_IDS)
def test_catalogue_is_complete_and_not_fuzzy(project, language):
    path = po_path(project, language)
    assert path.exists(), f"{path} is missing"
    catalogue = entries(path)
    assert len(catalogue) > 10
    untranslated = [e["id"] for e in catalogue if not all(e["strs"])]
    fuzzy = [e["id"] for e in catalogue if e["fuzzy"]]
    assert untranslated == [], f"{len(untranslated)} untranslated: {untranslated[:10]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy: {fuzzy[:10]}"


@pytest.mark.parametrize(("project", "language"), SHIPPED, ids=SHIPPED_IDS)
def test_translations_keep_their_placeholders(project, language):
    # A fuzzy entry is not compiled (and fails the completeness test): only the ones that ship.
    shipping = [e for e in entries(po_path(project, language)) if not e["fuzzy"]]
    problems = [p for e in shipping for p in placeholder_problems(e)]
    assert problems == [], f"{len(problems)} in {project}/{language}: {problems[:10]}"


@pytest.mark.parametrize(("project", "language"), SHIPPED, ids=SHIPPED_IDS)
def test_compiled_catalogue_matches_the_po(project, language):
    po = po_path(project, language)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run compilemessages"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in entries(po):
        if entry["fuzzy"] or not all(entry["strs"]):
            continue  # not compiled on purpose; the completeness test reports it
        ctx, msgid = entry["ctx"], entry["id"]
        if entry["plural"] is None:
            got = compiled.pgettext(ctx, msgid) if ctx else compiled.gettext(msgid)
            if got != entry["strs"][0]:
                stale.append(msgid)
            continue
        for number in (1, 2, 5, 21):
            form = entry["strs"][min(compiled.plural(number), len(entry["strs"]) - 1)]
            if ctx:
                got = compiled.npgettext(ctx, msgid, entry["plural"], number)
            else:
                got = compiled.ngettext(msgid, entry["plural"], number)
            if got != form:
                stale.append(f"{msgid} ({number})")
    assert stale == [], f"{len(stale)} differ in the .mo: {stale[:10]}"


def fresh_catalogue(project: str, tmp_path: Path) -> set[tuple[str | None, str]]:
    """The (context, msgid) pairs makemessages finds in the source of ``project`` today."""
    require_service("xgettext (Debian's gettext)", shutil.which("xgettext") is not None)
    spec = PROJECTS[project]
    copy = tmp_path / spec["root"].name
    shutil.copytree(
        spec["root"],
        copy,
        ignore=shutil.ignore_patterns("__pycache__", "locale", "staticfiles", "*.sqlite3"),
    )
    (copy / "locale").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "xx", "--no-location"],
        cwd=copy,
        capture_output=True,
        text=True,
        env={
            "DJANGO_SETTINGS_MODULE": spec["settings"],
            "PYTHONPATH": ":".join(str(p) for p in spec["path"]),
            "PATH": "/usr/bin:/bin:/usr/local/bin",
        },
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = copy / "locale" / "xx" / "LC_MESSAGES" / "django.po"
    return {(e["ctx"], e["id"]) for e in entries(found)}


@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_every_source_string_is_in_every_catalogue(project, tmp_path):
    fresh = fresh_catalogue(project, tmp_path)
    assert len(fresh) > 10
    problems = {}
    for name, language in SHIPPED:
        if name != project:
            continue
        shipped_ids = {(e["ctx"], e["id"]) for e in entries(po_path(project, language))}
        missing = sorted(i for _, i in fresh - shipped_ids)
        if missing:
            problems[language] = f"{len(missing)} missing: {missing[:10]}"
    assert problems == {}


def test_every_catalogue_row_carries_every_shipped_language():
    """The shipped reasons and offers are data, not gettext strings: each row carries its own
    text per language (``translations``), for every field the customer reads."""
    from django_graceful_cancel.catalogue.defaults import OFFERS, REASONS

    languages = sorted({lang for project, lang in SHIPPED if project == "package"})
    fields = {"label", "follow_up_question", "title", "description"}
    problems = []
    for row in [*REASONS, *OFFERS]:
        wanted = {name for name in fields if row.get(name)}
        for language in languages:
            text = row.get(language) or {}
            missing = sorted(name for name in wanted if not text.get(name))
            same = sorted(name for name in wanted if text.get(name) == row[name])
            if missing or same:
                problems.append(f"{row['slug']}/{language}: missing {missing}, English {same}")
    assert problems == []


@pytest.mark.django_db
def test_the_loaded_catalogue_speaks_each_language(catalogue):
    """``graceful_cancel_load_catalogue`` stores every language a row carries, and the rows
    answer in the active one."""
    from django_graceful_cancel.catalogue.defaults import OFFERS, REASONS
    from django_graceful_cancel.models import Reason, RetentionOffer

    languages = sorted({lang for project, lang in SHIPPED if project == "package"})
    for language in languages:
        with translation.override(language):
            for spec in REASONS:
                reason = Reason.objects.get(slug=spec["slug"])
                assert reason.localized_label == spec[language]["label"], (language, spec["slug"])
            for spec in OFFERS:
                offer = RetentionOffer.objects.get(slug=spec["slug"])
                assert offer.localized_title == spec[language]["title"], (language, spec["slug"])


#: One string per shipped language, as its speakers read it (a smoke test of the runtime).
KNOWN = {"es": "Cancelado", "de": "Gekündigt"}


@pytest.mark.parametrize("language", sorted({lang for _p, lang in SHIPPED}))
def test_a_known_string_translates_at_runtime(language):
    from django_graceful_cancel.choices import CaseStatus

    with translation.override(language):
        label = str(CaseStatus.CANCELLED.label)
    assert label != "Cancelled"
    if language in KNOWN:
        assert label == KNOWN[language]


def test_the_german_legal_labels_are_the_statutory_ones():
    """§ 312k BGB: the button leading to the cancellation page reads "Verträge hier kündigen",
    the one sending it "jetzt kündigen" (nothing else, so no translator may 'improve' them)."""
    with translation.override("de"):
        assert translation.gettext("Cancel contracts here") == "Verträge hier kündigen"
        assert translation.gettext("Cancel now") == "jetzt kündigen"


# --- every message, in every language the site enables ----------------------------------------

CUSTOMER_WORDS = "Xq Zr Wv"  # what the customer typed: no language, so never "English left"
GIFT = {"title": "Gift-Title-Q", "code": "BACK20"}


def _languages_enabled() -> list[str]:
    return [code for code, _name in settings.LANGUAGES if code.split("-")[0] != "en"]


def _sentences(text: str) -> set[str]:
    """The sentences of a rendered message, HTML stripped, whitespace folded."""
    plain = html.unescape(strip_tags(text))
    found = set()
    for line in plain.splitlines():
        for part in re.split(r"(?<=[.!?:])\s+", line):
            part = " ".join(part.split())
            if part:
                found.add(part)
    return found


def _worded(sentence: str, ignore: list[str]) -> bool:
    """Whether ``sentence`` still has two words once names, numbers and URLs are taken out."""
    for value in ignore:
        if value:
            sentence = sentence.replace(value, " ")
    sentence = re.sub(r"https?://\S+|\S+@\S+|\[[^\]]*\]", " ", sentence)
    return len(re.findall(r"[^\W\d_]{2,}", sentence)) >= 2


def _channels(stage: str) -> list[str]:
    """The channels whose shared frame exists for ``stage``."""
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    from django_graceful_cancel.rendering import PARTS

    found = []
    for channel, (_subject, body, _html) in PARTS.items():
        try:
            get_template(f"django_graceful_cancel/messages/{stage}/default_{body}")
        except TemplateDoesNotExist:
            continue
        found.append(channel)
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("formal", [True, False], ids=["formal", "informal"])
@pytest.mark.parametrize("language", _languages_enabled())
def test_every_message_is_in_the_language_of_the_case(make_customer, catalogue, language, formal):
    """Each reason x stage x channel, rendered with everything true (so every sentence shows) in
    ``language`` and in English: a sentence identical to the English one (beyond names, numbers
    and links) is English left in the message."""
    from django_graceful_cancel import services
    from django_graceful_cancel.catalogue.defaults import REASONS, STAGES
    from django_graceful_cancel.followups.links import links_for
    from django_graceful_cancel.models import FollowUp, Reason
    from django_graceful_cancel.rendering import render_message
    from django_graceful_cancel.sites import site_name
    from tests.support.messages import untranslated_strings

    code = language.split("-")[0]
    options = gc_settings(
        FORMAL_REGISTER={code: formal},
        WHATS_NEW="tests.support.messages.sample_whats_new",
        GOODBYE={"export": True, "keeps_content": True, "gift": GIFT},
    )
    problems: list[str] = []
    for spec in REASONS:
        slug = spec["slug"]
        with override_settings(
            GRACEFUL_CANCEL={**options, "FEEDBACK_ROUTES": {slug: {"to": ["team@example.com"]}}}
        ):
            customer = make_customer()
            case, _ = services.start_case(customer, language=language)
            services.record_reason(case, slug, detail=CUSTOMER_WORDS, contact_consent=True)
            case.refresh_from_db()
            ignore = [
                CUSTOMER_WORDS,
                GIFT["title"],
                case.reference,
                site_name(),
                str(case.plan or ""),
                str(customer.first_name),
                customer.get_full_name(),
                customer.get_username(),
                *(str(item) for item in _whats_new_words()),
            ]
            renders = [
                (
                    "flow_message",
                    "page",
                    {"effective_at": case.period_end, "ends_later": True},
                )
            ]
            services.confirm_cancellation(case)
            case.refresh_from_db()
            rows = {row.stage: row for row in FollowUp.objects.filter(case=case)}
            for stage in STAGES[1:]:
                if stage == "winback" and not Reason.objects.get(slug=slug).offer_allowed:
                    continue
                for channel in _channels(stage):
                    extra: dict[str, Any] = links_for(case, "email").as_context()
                    if stage in rows:
                        extra["followup"] = rows[stage]
                    renders.append((stage, channel, extra))
            with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
                for stage, channel, extra in renders:
                    english = render_message(
                        case, stage, channel=channel, language="en", extra_context=extra
                    )
                    with untranslated_strings(language) as missed:
                        theirs = render_message(
                            case, stage, channel=channel, language=language, extra_context=extra
                        )
                    where = f"{slug}/{stage}/{channel}"
                    if missed:
                        problems.append(f"{where}: untranslated {sorted(set(missed))[:3]}")
                    left = {
                        sentence
                        for sentence in _sentences(
                            "\n".join([theirs.subject, theirs.text, theirs.html])
                        )
                        & _sentences("\n".join([english.subject, english.text, english.html]))
                        if _worded(sentence, ignore)
                    }
                    if left:
                        problems.append(f"{where}: English left {sorted(left)[:3]}")
    assert problems == [], f"{len(problems)} in {language}: {problems[:8]}"


def _whats_new_words() -> list[str]:
    """The site's own 'what's new' text (the sample source writes it in English)."""
    from tests.support.messages import WHATS_NEW_ITEMS

    words: list[str] = []
    for item in WHATS_NEW_ITEMS:
        if isinstance(item, dict):
            words += [str(value) for value in item.values()]
        else:
            words.append(str(item))
    return words
