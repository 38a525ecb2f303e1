"""The support matrix and the quality gates, one nox session each.

    nox -l                          # list every session
    nox -s tests                    # the whole matrix (what `make matrix` runs)
    nox -t corners                  # oldest and newest corners on SQLite (`make corners`)
    nox -s lint typecheck docs build

Supported: Django 5.2 LTS on Python 3.11 to 3.13; Django 6.0 and 6.1 on Python 3.12 and 3.13
(Django 6 dropped Python 3.11). Each combination runs on SQLite and on PostgreSQL
(``DATABASE_URL``, default the local server); arguments after ``--`` go to pytest.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["lint", "typecheck", "docs", "tests"]

# pyenv's interpreters are not on PATH by default; make python3.11 .. python3.13 findable.
_pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
for _bin in sorted(glob.glob(os.path.join(_pyenv_root, "versions", "3.1[1-3]*", "bin"))):
    if _bin not in os.environ.get("PATH", ""):
        os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

#: Django version -> Python versions it supports (and we test).
SUPPORT = {
    "5.2": ["3.11", "3.12", "3.13"],
    "6.0": ["3.12", "3.13"],
    "6.1": ["3.12", "3.13"],
}
OLDEST = ("3.11", "5.2")
NEWEST = ("3.13", "6.1")
# Read once and removed from the environment: SQLite sessions must not inherit it.
PG_URL = os.environ.pop("DATABASE_URL", "") or "postgres://postgres@127.0.0.1:5432/graceful_cancel"
# The fast subset the corners run: no browser, no real Celery worker.
FAST = ["-m", "not browser and not celery_worker"]


def _matrix() -> list[object]:
    params = []
    for django, pythons in SUPPORT.items():
        for python in pythons:
            for db in ("sqlite", "postgres"):
                corner = (python, django) in (OLDEST, NEWEST) and db == "sqlite"
                params.append(
                    nox.param(
                        python,
                        django,
                        db,
                        id=f"py{python}-django{django}-{db}",
                        tags=["corners"] if corner else [],
                    )
                )
    return params


@nox.session
@nox.parametrize(("python", "django", "db"), _matrix())
def tests(session: nox.Session, django: str, db: str) -> None:
    """The suite on one Django x Python x database combination."""
    session.install("-e", ".[dev]", f"Django~={django}.0")
    session.run(
        "python", "-c", "import django, sys; print('Django', django.get_version(), sys.version)"
    )
    env = {"DATABASE_URL": PG_URL} if db == "postgres" else {}
    args = list(session.posargs)
    if not args:
        # The browser tests drive one Chromium; they run once, in `make test`, not per cell.
        corner = (session.python, django) in (OLDEST, NEWEST) and db == "sqlite"
        args = FAST if corner else ["-m", "not browser"]
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *args, env=env)


@nox.session(python="3.12")
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.12")
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy", "django_graceful_cancel", env={"PYTHONPATH": str(ROOT)})


@nox.session(python="3.12")
def docs(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"))


@nox.session(python="3.12")
def build(session: nox.Session) -> None:
    """sdist and wheel, twine check, the wheel's contents, and a smoke test of the installed wheel."""
    session.install("build", "twine")
    shutil.rmtree(ROOT / "dist", ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", "dist")
    session.run("twine", "check", "--strict", *glob.glob("dist/*"))
    session.run("python", "scripts/check_dist.py", "dist")
    session.run("python", "scripts/smoke_wheel.py", "dist")
