"""Compliance profiles: what the customer's flow may and may not do in each jurisdiction.

``GRACEFUL_CANCEL["COMPLIANCE_PROFILE"]`` selects the profile for new cases and the case records
it (``CancellationCase.compliance_profile``), so a case keeps the rules it started under.
docs/compliance.md explains which law each rule serves.

* ``default``: US automatic-renewal laws (e.g. California's): a reason survey and at most one
  retention offer, always next to an unobstructed "Cancel my subscription" button.
* ``eu``: the EU withdrawal function (Consumer Rights Directive, art. 11a) and Germany's
  cancellation button (BGB section 312k): the confirm button comes first, nothing is offered, and a
  no-login "cancel contracts here" declaration page is reachable at all times.
* ``fr``: France's "résiliation en trois clics" (Code de la consommation L215-1-1, D215-1-1 ff.):
  the confirm button comes first and nothing is offered on the way.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .choices import ComplianceProfile
from .conf import app_settings


@dataclass(frozen=True)
class ComplianceRules:
    profile: str
    #: A retention offer may be shown during the flow.
    offers: bool
    #: The reason survey is asked before the confirm button (``default``) or only as an optional
    #: extra after it (``eu``, ``fr``).
    survey_first: bool
    #: The no-login declaration page ("cancel contracts here") is available.
    declaration_page: bool
    #: Wording of the page heading and the button that leads to it.
    heading: str | Promise
    #: Most clicks from the account page to a confirmed cancellation (what the tests check).
    max_clicks: int = 3


PROFILES: dict[str, ComplianceRules] = {
    ComplianceProfile.DEFAULT: ComplianceRules(
        profile=ComplianceProfile.DEFAULT,
        offers=True,
        survey_first=True,
        declaration_page=False,
        heading=_("Cancel your subscription"),
    ),
    ComplianceProfile.EU: ComplianceRules(
        profile=ComplianceProfile.EU,
        offers=False,
        survey_first=False,
        declaration_page=True,
        heading=_("Cancel contracts here"),
    ),
    ComplianceProfile.FR: ComplianceRules(
        profile=ComplianceProfile.FR,
        offers=False,
        survey_first=False,
        declaration_page=False,
        heading=_("Cancel your contract"),
    ),
}


def rules_for(profile: str | None = None) -> ComplianceRules:
    """The rules of ``profile``, or of the configured profile when None (unknown: default)."""
    if profile is None:
        profile = app_settings.COMPLIANCE_PROFILE
    return PROFILES.get(str(profile), PROFILES[ComplianceProfile.DEFAULT])


def offers_allowed(profile: str | None) -> bool:
    return rules_for(profile).offers
