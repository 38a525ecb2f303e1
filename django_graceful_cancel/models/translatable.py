"""Per-language text stored next to the default text, for catalogue rows staff edit in the admin."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language


class TranslatableMixin(models.Model):
    """``translations`` holds ``{"es": {"label": "...", ...}}``; the plain fields hold the default text.

    A site's catalogue is data, not code, so gettext catalogues cannot translate it; this keeps
    each row's translations beside it, editable by staff without a deploy.
    """

    translations = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    def localized(self, field: str, language: str | None = None) -> str:
        language = (language or get_language() or "").lower()
        candidates = [language, language.split("-")[0]] if language else []
        for code in candidates:
            value = (self.translations or {}).get(code, {}).get(field)
            if value:
                return str(value)
        return str(getattr(self, field) or "")
