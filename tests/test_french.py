"""French ships complete: the catalogue's plural forms, the catalogue rows, the claims the copy
makes, the formal register ("vous") a French customer is addressed in, and the web component's
own words.

test_translations.py checks every shipped language for untranslated and fuzzy entries, and
test_messages.py renders and lints every stage in French; these tests check what is particular
to French.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polib
import pytest
from django.test import override_settings
from django.utils import translation

import django_graceful_cancel
from django_graceful_cancel import services
from django_graceful_cancel.catalogue.defaults import OFFERS, REASON_COPY, REASONS, STAGE_SLOTS
from django_graceful_cancel.models import Reason, RetentionOffer
from django_graceful_cancel.rendering import find_claims, render_message
from tests.support import gc_settings

PACKAGE = Path(django_graceful_cancel.__file__).resolve().parent
PO = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "django.po"
WEB_COMPONENT = PACKAGE / "static" / "django_graceful_cancel" / "graceful-cancel-flow.js"

#: Pages that show message copy next to the message files (test_messages.py lints them all, in
#: French too).
FRAMES = (
    "django_graceful_cancel/includes/heard.html",
    "django_graceful_cancel/includes/goodbye.html",
    "django_graceful_cancel/done.html",
)

#: The text fields of a catalogue row that customers read.
ROW_FIELDS = ("label", "follow_up_question", "title", "description")


def translated() -> list[polib.POEntry]:
    """The French entries that are translated and not fuzzy (feature strings may still be
    arriving: test_translations.py fails on those)."""
    entries = []
    for entry in polib.pofile(str(PO)):
        if entry.obsolete or "fuzzy" in entry.flags:
            continue
        done = all(entry.msgstr_plural.values()) if entry.msgid_plural else bool(entry.msgstr)
        if done:
            entries.append(entry)
    return entries


def pairs(entry: polib.POEntry) -> list[tuple[str, str]]:
    """(English, French) for an entry: the singular, and the plural with its "other" form."""
    if not entry.msgid_plural:
        return [(entry.msgid, entry.msgstr)]
    forms = entry.msgstr_plural
    return [(entry.msgid, forms[0]), (entry.msgid_plural, forms[max(forms)])]


# --- the catalogue ----------------------------------------------------------------------------


def test_every_plural_form_is_french_for_every_count():
    """French has one form for 0 and 1 and another from 2 on (CLDR adds one for millions); a
    catalogue with fewer forms than its header announces falls back to English from 2 on."""
    plurals = [e for e in translated() if e.msgid_plural]
    assert plurals
    english = []
    with translation.override("fr"):
        for entry in plurals:
            french = set(entry.msgstr_plural.values())
            for count in (0, 1, 2, 5, 21, 1_000_000):
                if entry.msgctxt:
                    got = translation.npgettext(
                        entry.msgctxt, entry.msgid, entry.msgid_plural, count
                    )
                else:
                    got = translation.ngettext(entry.msgid, entry.msgid_plural, count)
                if got not in french:
                    english.append(f"{entry.msgid!r} ({count}): {got!r}")
            one = entry.msgstr_plural[0]
            if entry.msgctxt:
                got_one = translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 1)
            else:
                got_one = translation.ngettext(entry.msgid, entry.msgid_plural, 1)
            assert got_one == one, entry.msgid
    assert english == []


def in_message_copy(entry: polib.POEntry) -> bool:
    """Whether the sentence is message copy: a shipped message file or a frame's ``say``."""
    places = ("templates/django_graceful_cancel/messages/", "catalogue/defaults.py")
    places += tuple(f"templates/{name}" for name in FRAMES)
    return any(path.startswith(places) for path, _line in entry.occurrences)


def test_the_french_copy_makes_every_claim_the_english_makes():
    """The claim linter finds a claim by its words in the active language: a French sentence that
    loses the words would let a staff row in French claim it without its condition."""
    missing = []
    copy = [entry for entry in translated() if in_message_copy(entry)]
    assert len(copy) > 100
    for entry in copy:
        for english, french in pairs(entry):
            lost = find_claims(english) - find_claims(french)
            if lost:
                missing.append(f"{sorted(lost)}: {french!r}")
    assert missing == []


# --- the catalogue rows -----------------------------------------------------------------------


@pytest.mark.parametrize("row", [*REASONS, *OFFERS], ids=lambda row: row["slug"])
def test_every_shipped_row_has_its_french_text(row):
    fields = [field for field in ROW_FIELDS if row.get(field)]
    french = row.get("fr", {})
    assert sorted(french) == sorted(fields)
    for field in fields:
        assert french[field].strip(), field
        assert french[field] != row[field], field


@pytest.mark.django_db
def test_a_french_customer_reads_the_loaded_rows_in_french(catalogue):
    with translation.override("fr"):
        for row in REASONS:
            reason = Reason.objects.get(slug=row["slug"])
            assert reason.localized_label == row["fr"]["label"]
            if row.get("follow_up_question"):
                assert reason.localized_follow_up_question == row["fr"]["follow_up_question"]
        for row in OFFERS:
            offer = RetentionOffer.objects.get(slug=row["slug"])
            assert offer.localized_title == row["fr"]["title"]
            assert offer.localized_description == row["fr"]["description"]


# --- the register -----------------------------------------------------------------------------


def own_sentence(slug: str, stage: str, *, formal: bool) -> str:
    slot = next(iter(STAGE_SLOTS[stage].values()))
    say = REASON_COPY[slug][slot]
    with translation.override("fr"):
        return str(say.formal if formal else say.informal) % {"site": "Test Streaming"}


def confirmation(customer: Any, slug: str) -> str:
    case, _ = services.start_case(customer, language="fr")
    services.record_reason(case, slug, contact_consent=True)
    services.confirm_cancellation(case)
    case.refresh_from_db()
    rendered = render_message(case, "confirmation")
    # Links carry random tokens: their letters are no words of the message.
    return " ".join(re.sub(r"https?://\S+", "", rendered.text).split())


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["price", "customer-service", "missing-features"])
def test_a_french_customer_is_addressed_as_vous_by_default(make_customer, catalogue, slug):
    with override_settings(GRACEFUL_CANCEL=gc_settings()):
        text = confirmation(make_customer(), slug)
    formal = own_sentence(slug, "confirmation", formal=True)
    informal = own_sentence(slug, "confirmation", formal=False)
    assert formal != informal
    assert formal in text
    assert informal not in text
    assert re.search(r"\bvous\b", text, re.I)
    assert not re.search(r"\b(?:tu|toi|ton|ta|tes)\b", text, re.I)


@pytest.mark.django_db
def test_a_site_can_address_french_customers_as_tu(make_customer, catalogue):
    with override_settings(GRACEFUL_CANCEL=gc_settings(FORMAL_REGISTER={"fr": False})):
        text = confirmation(make_customer(), "price")
    assert own_sentence("price", "confirmation", formal=False) in text


# --- the web component ------------------------------------------------------------------------


def dictionary_keys(source: str, language: str) -> list[str]:
    """The keys of one language's dictionary in the module's ``translations`` object."""
    block = re.search(rf"^  {language}: \{{\n(.*?)^  \}},$", source, re.S | re.M)
    assert block, f"no {language} dictionary"
    return re.findall(r"^    (\w+):", block.group(1), re.M)


def test_the_web_component_speaks_french_with_every_english_word():
    source = WEB_COMPONENT.read_text(encoding="utf-8")
    english = dictionary_keys(source, "en")
    assert len(english) > 30
    assert dictionary_keys(source, "fr") == english
