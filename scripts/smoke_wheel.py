"""Install the built wheel in a fresh virtual environment and use it like a host site would.

    python scripts/smoke_wheel.py dist

Outside the checkout (so nothing is imported from the source tree), with a tiny settings module
and an in-memory subscription backend, it runs `django-admin check`, `migrate`, the catalogue
loader and `collectstatic`, then a service call: a customer starts a case, gives a reason,
declines the offer and confirms; the confirmation email is rendered from the wheel's templates,
and the wheel's Spanish translations are used. Exits non-zero on any failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

SETTINGS = """
SECRET_KEY = "smoke-test-not-secret-" + "z" * 40
DEBUG = False
ALLOWED_HOSTS = ["localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "anymail",
    "django_graceful_cancel",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "smoke_urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "smoke.sqlite3"}}
USE_TZ = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Spanish")]
STATIC_URL = "static/"
STATIC_ROOT = "staticfiles"
DEFAULT_FROM_EMAIL = "smoke@example.com"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND}}
GRACEFUL_CANCEL = {
    "SUBSCRIPTION_BACKEND": "smoke_backend.MemoryBackend",
    "FOLLOWUP_DISPATCH": "inline",
    "SITE_NAME": "Smoke",
    # DEBUG is off: links in worker-sent mail need the address (check W042).
    "SITE_URL": "https://smoke.example.com",
}
"""

# Django 6.1 replaced EMAIL_BACKEND with MAILERS; keep only the one this Django knows.
SETTINGS_TAIL = """
import django
if django.VERSION >= (6, 1):
    del EMAIL_BACKEND
else:
    del MAILERS
"""

URLS = """
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("account/cancel/", include("django_graceful_cancel.urls")),
    path("api/cancel/", include("django_graceful_cancel.api.urls")),
]
"""

BACKEND = """
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from django_graceful_cancel.backends.base import BaseSubscriptionBackend, SubscriptionInfo

CANCELLED = {}


class MemoryBackend(BaseSubscriptionBackend):
    def _info(self, reference):
        now = timezone.now()
        return SubscriptionInfo(
            reference=reference, plan="Standard", plan_code="standard", price=Decimal("12.99"),
            currency="EUR", interval="month", started_at=now - timedelta(days=400),
            current_period_end=now + timedelta(days=20),
            is_active=reference not in CANCELLED,
        )

    def get_active_subscription(self, customer):
        return self._info(f"mem:{customer.pk}")

    def get_subscription(self, reference):
        return self._info(reference)

    def cancel(self, reference, *, at_period_end, case):
        CANCELLED[reference] = at_period_end

    def reactivate(self, reference, *, case):
        CANCELLED.pop(reference, None)
"""

SCENARIO = """
import django
django.setup()

from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import translation

import django_graceful_cancel
from django_graceful_cancel import services
from django_graceful_cancel.choices import CaseStatus

origin = django_graceful_cancel.__file__
assert "site-packages" in origin, f"imported from the checkout, not the wheel: {origin}"

user = get_user_model().objects.create_user("smoke", "smoke@example.com", "x", first_name="Sam")
case, created = services.start_case(user)
assert created and case.status == CaseStatus.OPEN, case.status
services.record_reason(case, "price", detail="too dear", actor=user)
presentation = services.present_offer(case, actor=user)
if presentation is not None:
    services.decline_offer(case, actor=user)
case = services.confirm_cancellation(case, actor=user)
case.refresh_from_db()
assert case.status == CaseStatus.CANCELLED, case.status
assert case.reference.startswith("GC-"), case.reference
assert case.events.count() >= 3, list(case.events.values_list("kind", flat=True))

confirmations = [m for m in mail.outbox if case.reference in (m.subject + m.body)]
assert confirmations, f"no confirmation email naming {case.reference}: {mail.outbox}"

with translation.override("es"):
    spanish = str(CaseStatus.CANCELLED.label)
assert spanish != "Cancelled", "no Spanish translation: are the .mo files in the wheel?"

print(f"smoke: {case.reference} cancelled, {len(case.events.all())} events, "
      f"confirmation sent, 'Cancelled' in Spanish is {spanish!r}; imported from {origin}")
"""


def run(*args: str | Path, cwd: Path, env: dict[str, str]) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=cwd, env=env, check=True)


def main(dist: str) -> int:
    wheels = sorted(Path(dist).resolve().glob("*.whl"))
    if len(wheels) != 1:
        print(f"expected one wheel in {dist}, found {wheels}")
        return 1
    with tempfile.TemporaryDirectory(prefix="gc-smoke-") as tmp:
        work = Path(tmp)
        venv = work / "venv"
        uv = shutil.which("uv") or (
            str(Path(sys.executable).with_name("uv"))
            if Path(sys.executable).with_name("uv").exists()
            else None
        )
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.pop("DATABASE_URL", None)
        if uv:
            run(uv, "venv", "--quiet", "--python", sys.executable, venv, cwd=work, env=env)
            run(
                uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                venv / "bin" / "python",
                wheels[0],
                cwd=work,
                env=env,
            )
        else:
            run(sys.executable, "-m", "venv", venv, cwd=work, env=env)
            run(
                venv / "bin" / "python",
                "-m",
                "pip",
                "install",
                "--quiet",
                wheels[0],
                cwd=work,
                env=env,
            )

        project = work / "site"
        project.mkdir()
        (project / "smoke_settings.py").write_text(SETTINGS + SETTINGS_TAIL)
        (project / "smoke_urls.py").write_text(textwrap.dedent(URLS))
        (project / "smoke_backend.py").write_text(textwrap.dedent(BACKEND))
        (project / "scenario.py").write_text(textwrap.dedent(SCENARIO))
        env = {
            **env,
            "DJANGO_SETTINGS_MODULE": "smoke_settings",
            "PYTHONPATH": str(project),
            "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        }
        bin_dir = venv / "bin"
        run(bin_dir / "django-admin", "check", "--fail-level", "WARNING", cwd=project, env=env)
        run(bin_dir / "django-admin", "migrate", "--noinput", "-v", "0", cwd=project, env=env)
        run(
            bin_dir / "django-admin",
            "makemigrations",
            "--check",
            "--dry-run",
            "graceful_cancel",
            cwd=project,
            env=env,
        )
        run(bin_dir / "django-admin", "graceful_cancel_load_catalogue", cwd=project, env=env)
        run(bin_dir / "django-admin", "collectstatic", "--noinput", "-v", "0", cwd=project, env=env)
        static = list((project / "staticfiles" / "django_graceful_cancel").rglob("*.*"))
        if not static:
            print("smoke: collectstatic found none of the app's static files")
            return 1
        run(bin_dir / "python", "scenario.py", cwd=project, env=env)
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dist"))
