"""English and Spanish ship complete: every source string is in the Spanish catalogue, translated,
and the compiled .mo that ships matches the .po."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import require_service

PACKAGE = Path(__file__).resolve().parent.parent / "django_graceful_cancel"
PO = PACKAGE / "locale" / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

_ENTRY = re.compile(
    r'^(?P<flags>(?:#.*\n)*)(?:msgctxt\s+"(?P<ctx>.*)"\n)?msgid\s+(?P<id>(?:".*"\n)+)'
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


def entries(path: Path) -> list[dict[str, object]]:
    found = []
    for m in _ENTRY.finditer(path.read_text(encoding="utf-8") + "\n"):
        msgid = _join(m["id"])
        if not msgid:
            continue  # the header
        strs = [_join(s) for s in re.findall(r'msgstr(?:\[\d\])?\s+((?:".*"\n)+)', m["strs"])]
        found.append(
            {
                "ctx": m["ctx"],
                "id": msgid,
                "plural": _join(m["plural"]) if m["plural"] else None,
                "strs": strs,
                "fuzzy": "fuzzy" in m["flags"],
            }
        )
    return found


def test_spanish_catalogue_is_complete_and_not_fuzzy():
    assert PO.exists(), "django_graceful_cancel/locale/es/LC_MESSAGES/django.po is missing"
    catalogue = entries(PO)
    assert len(catalogue) > 50
    untranslated = [e["id"] for e in catalogue if not all(e["strs"])]
    fuzzy = [e["id"] for e in catalogue if e["fuzzy"]]
    assert untranslated == [], f"{len(untranslated)} untranslated: {untranslated[:10]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy: {fuzzy[:10]}"


def test_compiled_catalogue_matches_the_po():
    translations = gettext.GNUTranslations(MO.open("rb"))
    for entry in entries(PO):
        if entry["plural"] or entry["ctx"]:
            continue
        assert translations.gettext(entry["id"]) == entry["strs"][0], entry["id"]


def test_every_source_string_is_in_the_catalogue(tmp_path):
    require_service("xgettext (Debian's gettext)", shutil.which("xgettext") is not None)
    copy = tmp_path / "django_graceful_cancel"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "locale" / "es" / "LC_MESSAGES" / "django.po").unlink()
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "es", "--no-location"],
        cwd=copy,
        capture_output=True,
        text=True,
        env={
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONPATH": str(PACKAGE.parent),
            "PATH": "/usr/bin:/bin:/usr/local/bin",
        },
        check=False,
    )
    assert result.returncode == 0, result.stderr
    fresh = {
        (e["ctx"], e["id"]) for e in entries(copy / "locale" / "es" / "LC_MESSAGES" / "django.po")
    }
    shipped = {(e["ctx"], e["id"]) for e in entries(PO)}
    missing = sorted(i for _, i in fresh - shipped)
    assert missing == [], (
        f"{len(missing)} strings missing from the Spanish catalogue: {missing[:15]}"
    )


@pytest.mark.parametrize("language", ["es"])
def test_a_known_string_translates_at_runtime(language):
    from django.utils import translation

    from django_graceful_cancel.choices import CaseStatus

    with translation.override(language):
        assert str(CaseStatus.CANCELLED.label) == "Cancelado"
