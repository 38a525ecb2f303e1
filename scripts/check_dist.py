"""Check what `python -m build` produced: the wheel and the sdist hold everything a site needs.

    python scripts/check_dist.py dist

The wheel must hold every module, migration, template, static file and compiled translation
(.mo, one per .po) of the package, plus py.typed, and nothing else (no caches, no tests, no
example site). The sdist must hold what a downstream packager needs to rebuild and test it.
Exits non-zero with a list of what is wrong.
"""

from __future__ import annotations

import email
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "django_graceful_cancel"
# Suffixes of source files that must reach the wheel as they are.
SHIPPED = {".py", ".html", ".txt", ".css", ".js", ".svg", ".png", ".json", ".mo", ".typed"}
FORBIDDEN = ("__pycache__", ".pyc", ".orig", ".rej", ".DS_Store", "/tests/", "example_project")


def source_files() -> set[str]:
    """Files of the package in the checkout that the wheel must carry (git-ignored ones aside)."""
    files = set()
    for path in (ROOT / PACKAGE).rglob("*"):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        if path.suffix in SHIPPED or path.name == "py.typed":
            files.add(path.relative_to(ROOT).as_posix())
    return files


def check_wheel(wheel: Path) -> list[str]:
    problems = []
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(archive.read(metadata_name))
    package_files = {n for n in names if n.startswith(f"{PACKAGE}/")}

    def need(description: str, matching: set[str]) -> None:
        if not matching:
            problems.append(f"wheel: no {description}")

    need("migrations", {n for n in package_files if "/migrations/0" in n and n.endswith(".py")})
    need("templates", {n for n in package_files if "/templates/" in n})
    need("static files", {n for n in package_files if "/static/" in n})
    need("compiled translations (.mo)", {n for n in package_files if n.endswith(".mo")})
    need("py.typed marker", {f"{PACKAGE}/py.typed"} & package_files)

    missing = sorted(source_files() - package_files)
    if missing:
        problems.append(f"wheel: {len(missing)} package file(s) missing, e.g. {missing[:8]}")
    for po in (ROOT / PACKAGE / "locale").rglob("*.po"):
        mo = po.with_suffix(".mo").relative_to(ROOT).as_posix()
        if mo not in package_files:
            problems.append(f"wheel: {mo} missing (run `make messages`, commit the .mo)")
    junk = sorted(n for n in names if any(bad in f"/{n}" for bad in FORBIDDEN))
    if junk:
        problems.append(f"wheel: files that do not belong: {junk[:8]}")
    outside = sorted(
        n for n in names if not n.startswith((f"{PACKAGE}/", f"{wheel.name.split('-')[0]}-"))
    )
    outside = [n for n in outside if ".dist-info/" not in n]
    if outside:
        problems.append(f"wheel: files outside the package: {outside[:8]}")

    if metadata.get("Requires-Python") != ">=3.11":
        problems.append(f"METADATA: Requires-Python is {metadata.get('Requires-Python')!r}")
    requires = metadata.get_all("Requires-Dist") or []
    if not any(r.replace(" ", "").lower().startswith("django>=5.2") for r in requires):
        problems.append(f"METADATA: no Django>=5.2 requirement in {requires}")
    classifiers = set(metadata.get_all("Classifier") or [])
    for expected in (
        "Framework :: Django :: 5.2",
        "Framework :: Django :: 6.0",
        "Framework :: Django :: 6.1",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.13",
    ):
        if expected not in classifiers:
            problems.append(f"METADATA: classifier {expected!r} missing")
    if not metadata.get_payload():
        problems.append("METADATA: no long description (README)")
    return problems


def check_sdist(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    problems = []
    for required in (
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        f"{PACKAGE}/__init__.py",
        f"{PACKAGE}/py.typed",
        "tests/conftest.py",
        "docs/index.md",
        "mkdocs.yml",
        "noxfile.py",
        "example_project/config/settings.py",
    ):
        if required not in names:
            problems.append(f"sdist: {required} missing")
    for po in (ROOT / PACKAGE / "locale").rglob("*.po"):
        mo = po.with_suffix(".mo").relative_to(ROOT).as_posix()
        if mo not in names:
            problems.append(f"sdist: {mo} missing")
    junk = sorted(n for n in names if "__pycache__" in n or n.endswith(".pyc"))
    if junk:
        problems.append(f"sdist: caches shipped: {junk[:5]}")
    return problems


def main(dist: str) -> int:
    folder = Path(dist)
    wheels = sorted(folder.glob("*.whl"))
    sdists = sorted(folder.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"expected one wheel and one sdist in {folder}, found {wheels + sdists}")
        return 1
    problems = check_wheel(wheels[0]) + check_sdist(sdists[0])
    with zipfile.ZipFile(wheels[0]) as archive:
        names = archive.namelist()
    counts = {
        "modules": sum(n.endswith(".py") for n in names),
        "migrations": sum("/migrations/0" in n for n in names),
        "templates": sum("/templates/" in n for n in names),
        "static": sum("/static/" in n for n in names),
        "mo": sum(n.endswith(".mo") for n in names),
    }
    print(f"{wheels[0].name}: {counts}")
    print(f"{sdists[0].name}: ok" if not problems else "")
    for problem in problems:
        print(f"  - {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dist"))
