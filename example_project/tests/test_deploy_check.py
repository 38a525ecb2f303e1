"""``manage.py check --deploy`` passes, at WARNING level, for the example site's production
settings (example_project/config/settings_production.py), with secrets from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.reliability

EXAMPLE = Path(__file__).resolve().parents[1]
ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings_production",
    "DJANGO_SECRET_KEY": "k7#Vq9!zR2@mX4$wL8^pT6&nB3*cF5(hJ1)dG0_sA-yE+uI=oK[rM]vN{bQ}xZ;",
    "DJANGO_ALLOWED_HOSTS": "shop.example.com,www.shop.example.com",
    "DATABASE_URL": "postgres://shop@db.internal:5432/shop",
    "CELERY_BROKER_URL": "redis://cache.internal:6379/0",
    "MAILGUN_API_KEY": "key-from-the-environment",
    "MAILGUN_WEBHOOK_SIGNING_KEY": "signing-key-from-the-environment",
    "ANYMAIL_WEBHOOK_SECRET": "user:webhook-secret-from-the-environment",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=EXAMPLE,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_for_the_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout.lower()


def test_production_settings_refuse_to_start_without_their_secrets():
    missing = {k: v for k, v in ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", env=missing)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_development_settings_would_fail_the_deploy_check():
    """The check is not vacuous: the demo settings (DEBUG, no HTTPS) fail it."""
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "1"},
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout  # DEBUG in deployment
