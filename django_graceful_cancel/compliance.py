"""Compliance profiles: what the customer's flow may and may not do under each law.

A profile is data (``ComplianceRules``). Each case records the profile it started under
(``CancellationCase.compliance_profile``), chosen from the customer's jurisdiction
(``jurisdiction.py``) through ``JURISDICTION_PROFILES``, so a case keeps the rules it started
under whatever the site changes later. docs/compliance.md traces each rule to its legal source.

* ``us``: US automatic-renewal laws (California's among them): a reason survey and at most one
  retention offer, always next to an unobstructed "Cancel my subscription" button.
* ``us-mn``: Minnesota (Minn. Stat. 325G.56 to 325G.62): no offer at all until the cancellation
  is confirmed; then the customer may be asked whether they want to hear one, and only a "yes"
  shows it (accepting it reactivates the subscription).
* ``de``: Germany's cancellation button (BGB section 312k): "Verträge hier kündigen" leads to a
  confirmation page whose button says "jetzt kündigen"; nothing is offered before it; the
  no-login declaration page is the confirmation page for visitors who are not signed in.
* ``fr``: France's termination function (Code de la consommation L215-1-1, D215-1 to D215-3):
  "Résilier votre contrat", confirmed in at most three clicks, nothing offered on the way.
* ``eu``: the EU withdrawal function (Directive 2011/83/EU art. 11a) and a neutral cancellation
  page with the no-login declaration page; nothing is offered before the confirmation.

A site adds its own profiles with ``GRACEFUL_CANCEL["COMPLIANCE_PROFILES"]`` (name -> a dict of
``ComplianceRules`` fields, optionally ``"base"``: the profile it starts from, or the dotted path
of a ``ComplianceRules``); check ``graceful_cancel.E070`` validates them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.checks import CheckMessage, Error
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import ComplianceProfile
from .conf import SETTINGS_NAME, app_settings

#: The profile name cases and settings used before 0.2 for ``us``.
LEGACY_DEFAULT = "default"

#: Longest profile name a case can store (``CancellationCase.compliance_profile``).
MAX_PROFILE_LENGTH = 32

#: The confirm button's label where no law words it.
CANCEL_MY_SUBSCRIPTION = _("Cancel my subscription")

E_PROFILES = "graceful_cancel.E070"
DOCS = "docs/compliance.md"


@dataclass(frozen=True)
class ComplianceRules:
    """What a customer's flow may do under one profile. Instances are immutable; a site builds its
    own with ``dataclasses.replace(rules_for("us"), profile="acme", ...)`` or a settings dict."""

    profile: str
    #: A retention offer may be shown before the cancellation is confirmed.
    offers_before_confirm: bool
    #: The reason survey is asked before the confirm button (``us``) or only as an optional
    #: extra sent with the cancellation (``us-mn``, ``de``, ``fr``, ``eu``).
    survey_first: bool
    #: The no-login declaration page ("cancel contracts here") is available.
    declaration_page: bool
    #: Label of the way into the flow (the account page's link, the first page's heading). Where
    #: the law prescribes words, these are they, translated by the catalogue's statutory entries.
    heading: str | Promise
    #: Label of the button that confirms the cancellation.
    confirm_label: str | Promise = CANCEL_MY_SUBSCRIPTION
    #: After the cancellation is confirmed, the customer may be asked whether they want to hear
    #: one offer; only a "yes" shows it, and accepting it reactivates the subscription (us-mn).
    offer_after_confirm: bool = False
    #: Most clicks from the account page to a confirmed cancellation (what the tests check).
    max_clicks: int = 3
    #: The statutory withdrawal function (CRD art. 11a, BGB section 356a, L221-21 / D221-5) is
    #: offered while the withdrawal period runs (services/withdrawals.py).
    withdrawal_function: bool = False
    #: Days of the withdrawal period from the subscription's start (``WITHDRAWAL_DAYS`` overrides).
    withdrawal_days: int = 14
    #: The withdrawal page needs a login; False adds the no-login page (matched like a declaration).
    withdrawal_login_required: bool = True
    #: The labels are the law's own words (de, fr): every button that sends the cancellation
    #: carries ``confirm_label``, and nothing else is printed on it.
    statutory_labels: bool = False
    #: A win-back message may carry an offer (services/holdout.py reads it). Minnesota allows an
    #: offer after the cancellation only when the customer asked to hear one.
    winback_offer: bool = True
    #: A reason's follow-up questions (services/questions.py) may be asked. Off where the law
    #: wants the confirmation page bare (de, fr, eu); the withdrawal and declaration pages never
    #: ask them under any profile.
    questions: bool = True
    #: The law the profile follows, for the docs, the admin and the API ("BGB § 312k").
    legal_reference: str = ""

    @property
    def offers(self) -> bool:
        """Whether any retention offer may be shown in the flow (before the confirmation)."""
        return self.offers_before_confirm

    @property
    def entry_label(self) -> str | Promise:
        return self.heading


#: The shipped profiles. Statutory labels carry a message context so the catalogue's entry for
#: them is the law's wording, never a translator's paraphrase of the English.
PROFILES: dict[str, ComplianceRules] = {
    ComplianceProfile.US: ComplianceRules(
        profile=ComplianceProfile.US,
        offers_before_confirm=True,
        survey_first=True,
        declaration_page=False,
        heading=_("Cancel your subscription"),
        legal_reference="Cal. Bus. & Prof. Code § 17602 (AB 2863)",
    ),
    ComplianceProfile.US_MN: ComplianceRules(
        profile=ComplianceProfile.US_MN,
        offers_before_confirm=False,
        offer_after_confirm=True,
        winback_offer=False,
        survey_first=False,
        declaration_page=False,
        heading=_("Cancel your subscription"),
        legal_reference="Minn. Stat. 325G.56-325G.62",
    ),
    ComplianceProfile.DE: ComplianceRules(
        profile=ComplianceProfile.DE,
        offers_before_confirm=False,
        survey_first=False,
        declaration_page=True,
        heading=pgettext_lazy("statutory cancellation button (BGB 312k)", "Cancel contracts here"),
        confirm_label=pgettext_lazy("statutory cancellation confirmation button", "Cancel now"),
        max_clicks=2,
        statutory_labels=True,
        withdrawal_function=True,
        withdrawal_login_required=False,
        questions=False,
        legal_reference="BGB § 312k, § 356a",
    ),
    ComplianceProfile.FR: ComplianceRules(
        profile=ComplianceProfile.FR,
        offers_before_confirm=False,
        survey_first=False,
        declaration_page=False,
        heading=pgettext_lazy(
            "statutory termination function (Code de la consommation D215-1)",
            "Cancel your contract",
        ),
        confirm_label=pgettext_lazy("statutory cancellation confirmation button", "Cancel now"),
        max_clicks=3,
        statutory_labels=True,
        withdrawal_function=True,
        questions=False,
        legal_reference="Code de la consommation L215-1-1, D215-1 à D215-3; L221-21",
    ),
    ComplianceProfile.EU: ComplianceRules(
        profile=ComplianceProfile.EU,
        offers_before_confirm=False,
        survey_first=False,
        declaration_page=True,
        heading=_("Cancel contracts here"),
        withdrawal_function=True,
        withdrawal_login_required=False,
        questions=False,
        legal_reference="Directive 2011/83/EU art. 11a (Directive (EU) 2023/2673)",
    ),
}

_FIELDS = {f.name for f in dataclasses.fields(ComplianceRules)}


def _site_profile(name: str, value: Any, known: Mapping[str, ComplianceRules]) -> ComplianceRules:
    """One ``COMPLIANCE_PROFILES`` entry as rules; raises ``ValueError`` saying what is wrong."""
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as error:
            raise ValueError(f"cannot import {value!r} ({error})") from error
    if isinstance(value, ComplianceRules):
        return dataclasses.replace(value, profile=name)
    if not isinstance(value, Mapping):
        raise ValueError("must be a dict of ComplianceRules fields or a dotted path to one")
    values = dict(value)
    base_name = str(values.pop("base", ComplianceProfile.US))
    base = known.get(base_name)
    if base is None:
        raise ValueError(f"its base {base_name!r} is not a profile")
    unknown = sorted(set(values) - _FIELDS)
    if unknown:
        raise ValueError(f"unknown fields {', '.join(unknown)}")
    values["profile"] = name
    return dataclasses.replace(base, **values)


def registry() -> dict[str, ComplianceRules]:
    """Every profile by name: the shipped ones and the site's ``COMPLIANCE_PROFILES``.

    Read at call time, so ``override_settings`` applies; an entry that cannot be built is left
    out here and reported by check E070.
    """
    found: dict[str, ComplianceRules] = dict(PROFILES)
    extra = app_settings.COMPLIANCE_PROFILES or {}
    if isinstance(extra, Mapping):
        for name, value in extra.items():
            try:
                found[str(name)] = _site_profile(str(name), value, found)
            except (ValueError, TypeError):
                continue
    return found


def canonical_profile(profile: str | None) -> str | None:
    """The profile's current name: the pre-0.2 "default" is ``us``."""
    if profile == LEGACY_DEFAULT:
        return ComplianceProfile.US
    return profile


def fallback_profile() -> str:
    """``COMPLIANCE_PROFILE``: the profile of customers whose jurisdiction is unknown or mapped
    to nothing (``us`` unless the site set it)."""
    return canonical_profile(str(app_settings.COMPLIANCE_PROFILE)) or ComplianceProfile.US


def rules_for(profile: str | None = None) -> ComplianceRules:
    """The rules of ``profile``; None (or a name no longer registered) gives the fallback
    profile's (``COMPLIANCE_PROFILE``), and old cases' "default" gives ``us``."""
    profiles = registry()
    name = canonical_profile(profile) if profile else fallback_profile()
    found = profiles.get(str(name))
    if found is None:
        found = profiles.get(fallback_profile(), PROFILES[ComplianceProfile.US])
    return found


def offers_allowed(profile: str | None) -> bool:
    """Whether an offer may be shown before the cancellation is confirmed."""
    return rules_for(profile).offers_before_confirm


def offer_after_confirm_allowed(profile: str | None) -> bool:
    """Whether the customer may be asked, once cancelled, whether they want to hear an offer."""
    return rules_for(profile).offer_after_confirm


def check_profiles(value: Any) -> list[CheckMessage]:
    """E070: ``COMPLIANCE_PROFILES`` entries that are not profiles."""
    if value in (None, {}):
        return []
    hint = f"See {DOCS}, 'Your own profile'."
    if not isinstance(value, Mapping):
        return [
            Error(
                f"{SETTINGS_NAME}['COMPLIANCE_PROFILES'] must be a dict of profile name -> "
                "dict of ComplianceRules fields or dotted path.",
                hint=hint,
                id=E_PROFILES,
            )
        ]
    errors: list[CheckMessage] = []
    known: dict[str, ComplianceRules] = dict(PROFILES)
    for name, entry in value.items():
        problem = ""
        if not isinstance(name, str) or not name or len(name) > MAX_PROFILE_LENGTH:
            problem = f"a profile name must be a string of 1 to {MAX_PROFILE_LENGTH} characters"
        elif name == LEGACY_DEFAULT:
            problem = '"default" is the old name of "us" and cannot be redefined'
        else:
            try:
                known[name] = _site_profile(name, entry, known)
            except (ValueError, TypeError) as error:
                problem = str(error)
        if problem:
            errors.append(
                Error(
                    f"{SETTINGS_NAME}['COMPLIANCE_PROFILES'][{name!r}]: {problem}.",
                    hint=hint,
                    id=E_PROFILES,
                )
            )
    return errors


def known_profile(value: Any) -> bool:
    """Whether ``value`` names a profile (shipped, the site's own, or the old "default")."""
    return isinstance(value, str) and (value == LEGACY_DEFAULT or value in registry())
