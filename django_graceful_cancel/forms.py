"""Forms of the customer's pages. Every field is optional except what the law lets us ask."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import Channel, TerminationType
from .models import Reason

#: Channels that need a phone number.
PHONE_CHANNELS = {Channel.SMS, Channel.WHATSAPP, Channel.PHONE}


class ReasonForm(forms.Form):
    """Why are you leaving (optional), and how may we follow up (optional, opt-in)."""

    reason = forms.ChoiceField(
        label=_("Why are you leaving?"),
        required=False,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": _("Please choose one of the reasons listed, or none at all.")
        },
    )
    detail = forms.CharField(
        label=_("Anything you would like to add? (optional)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    preferred_channel = forms.ChoiceField(
        label=_("If we may contact you, how?"),
        choices=Channel.choices,
        initial=Channel.EMAIL,
        required=False,
        widget=forms.RadioSelect,
    )
    contact_consent = forms.BooleanField(
        # Everything after the receipt depends on this box (sequences.py): say what it covers.
        label=_(
            "You may contact me about this cancellation (a thank-you, a short survey, an offer "
            "to come back)."
        ),
        required=False,
        initial=False,
    )
    contact_phone = forms.CharField(
        label=_("Phone number (only for SMS, WhatsApp or a call)"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reasons = list(Reason.objects.filter(is_active=True).order_by("order", "slug"))
        reason_field = self.fields["reason"]
        assert isinstance(reason_field, forms.ChoiceField)
        reason_field.choices = [(r.slug, r.localized_label) for r in self.reasons]
        # No consent is ever pre-ticked, even when the form is shown again.
        self.fields["contact_consent"].initial = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        channel = data.get("preferred_channel") or Channel.EMAIL
        data["preferred_channel"] = channel
        phone = (data.get("contact_phone") or "").strip()
        if data.get("contact_consent") and channel in PHONE_CHANNELS and not phone:
            self.add_error("contact_phone", _("Please give a phone number for this channel."))
        return data

    def lenient_data(self) -> dict[str, Any]:
        """What can be kept when the customer cancels straight away: the valid fields only.

        A bad optional answer must never stand between the customer and the cancel button.
        """
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        data = {
            "reason": cleaned.get("reason") or None,
            "detail": cleaned.get("detail") or "",
            "preferred_channel": cleaned.get("preferred_channel") or Channel.EMAIL,
            "contact_consent": bool(cleaned.get("contact_consent")),
            "contact_phone": cleaned.get("contact_phone") or "",
        }
        if "contact_phone" in self.errors or "preferred_channel" in self.errors:
            data.update(preferred_channel=Channel.EMAIL, contact_phone="")
        return data


class DeclarationForm(forms.Form):
    """The public "cancel contracts here" page: only what identifies customer and contract."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        help_text=_("The address of your account, if you can; the confirmation is sent here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    contract = forms.CharField(
        label=_("Which subscription"),
        help_text=_("For example the plan name, or your customer name or number."),
        max_length=300,
        required=False,
    )
    termination = forms.ChoiceField(
        label=_("Type of termination"),
        choices=TerminationType.choices,
        initial=TerminationType.ORDINARY,
        widget=forms.RadioSelect,
    )
    extraordinary_reason = forms.CharField(
        label=_("Reason for an extraordinary termination"),
        help_text=_("Only needed for an extraordinary termination."),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    requested_end_date = forms.DateField(
        label=_("End date you would like"),
        help_text=_("Leave empty to end the contract at the earliest possible date."),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("termination") == TerminationType.EXTRAORDINARY
            and not (data.get("extraordinary_reason") or "").strip()
        ):
            self.add_error(
                "extraordinary_reason",
                _("Please give the reason for an extraordinary termination."),
            )
        end = data.get("requested_end_date")
        if end is not None and end < timezone.localdate():
            self.add_error("requested_end_date", _("The end date cannot be in the past."))
        return data
