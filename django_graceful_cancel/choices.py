"""Enumerations shared by models, services, forms and the API."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SAVED = "saved", _("Saved")
    CANCELLED = "cancelled", _("Cancelled")
    REACTIVATED = "reactivated", _("Reactivated")
    ABANDONED = "abandoned", _("Abandoned")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    PHONE = "phone", _("Phone call")


class ReasonCategory(models.TextChoices):
    PRICE = "price", _("Price and value")
    PRODUCT = "product", _("Product")
    SERVICE = "service", _("Customer service")
    COMMUNICATION = "communication", _("Communication")
    CIRCUMSTANCES = "circumstances", _("Customer's circumstances")
    COMPETITION = "competition", _("Competition")
    OTHER = "other", _("Other")


class OfferKind(models.TextChoices):
    DISCOUNT = "discount", _("Discount")
    PAUSE = "pause", _("Pause")
    DOWNGRADE = "downgrade", _("Downgrade")
    FREE_FEATURE = "free_feature", _("Free premium feature")
    EXTENSION = "extension", _("Extension")
    CONSULTATION = "consultation", _("Consultation call")


class OfferOutcome(models.TextChoices):
    PRESENTED = "presented", _("Presented")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class EffectiveMode(models.TextChoices):
    PERIOD_END = "period_end", _("At the end of the paid period")
    IMMEDIATELY = "immediately", _("Immediately")


class SyncStatus(models.TextChoices):
    NOT_NEEDED = "not_needed", _("Nothing to sync")
    PENDING = "pending", _("Pending")
    SYNCED = "synced", _("Synced")


class ComplianceProfile(models.TextChoices):
    DEFAULT = "default", _("Default (US automatic-renewal laws)")
    EU = "eu", _("EU / Germany cancellation button")
    FR = "fr", _("France three-click rule")


class EventKind(models.TextChoices):
    STARTED = "started", _("Case started")
    REASON_RECORDED = "reason_recorded", _("Reason recorded")
    OFFER_PRESENTED = "offer_presented", _("Offer presented")
    OFFER_ACCEPTED = "offer_accepted", _("Offer accepted")
    OFFER_DECLINED = "offer_declined", _("Offer declined")
    CANCELLED = "cancelled", _("Cancellation confirmed")
    REACTIVATED = "reactivated", _("Reactivated")
    ABANDONED = "abandoned", _("Abandoned")
    PROVIDER_SYNCED = "provider_synced", _("Subscription provider updated")
    PROVIDER_SYNC_FAILED = "provider_sync_failed", _("Subscription provider update failed")
    OWNER_ASSIGNED = "owner_assigned", _("Owner assigned")
    ROOT_CAUSE_SET = "root_cause_set", _("Root cause set")
    NOTE_ADDED = "note_added", _("Staff note added")
    MESSAGE_SENT = "message_sent", _("Message sent")
    MESSAGE_STATUS = "message_status", _("Message status changed")
    OPTED_OUT = "opted_out", _("Customer opted out")
    SURVEY_ANSWERED = "survey_answered", _("Survey answered")
    CALL_DONE = "call_done", _("Call done")
    DISPUTED = "disputed", _("Customer said it was not them")
    ERASED = "erased", _("Personal data erased")
    EXPORTED = "exported", _("Personal data exported")
    SAVE_CHECKED = "save_checked", _("Save checked")
    # A change made at the billing provider, outside the flow (services/external.py).
    EXTERNAL_CHANGE = "external_change", _("Changed at the billing provider")
    FOLLOWUPS_SCHEDULED = "followups_scheduled", _("Follow-ups scheduled by staff")
    FOLLOWUPS_CANCELLED = "followups_cancelled", _("Follow-ups cancelled by staff")
    # An accepted offer a person applies (services/fulfilment.py).
    FULFILMENT_ASSIGNED = "fulfilment_assigned", _("Offer task assigned")
    FULFILMENT_DONE = "fulfilment_done", _("Offer applied by staff")


class FollowUpStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    OPENED = "opened", _("Opened")
    BOUNCED = "bounced", _("Bounced")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


class FulfilmentStatus(models.TextChoices):
    """A desk task to apply an accepted offer (services/fulfilment.py)."""

    OPEN = "open", _("To do")
    DONE = "done", _("Done")


class CallTaskStatus(models.TextChoices):
    OPEN = "open", _("To call")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TerminationType(models.TextChoices):
    """Kinds of termination a no-login declaration states (BGB section 312k)."""

    ORDINARY = "ordinary", _("Ordinary termination")
    EXTRAORDINARY = "extraordinary", _("Extraordinary termination (for cause)")


class DeclarationStatus(models.TextChoices):
    #: Stored as received; matching and the acknowledgement follow right after the response.
    RECEIVED = "received", _("Received")
    #: Matched to the account's own email, but takes effect only once the account holder
    #: confirms it from that address or staff apply it (an immediate termination).
    PENDING = "pending", _("Waiting for the account holder or staff")
    #: Matched to a subscription and the cancellation confirmed.
    MATCHED = "matched", _("Matched and cancelled")
    #: Could not be matched or applied automatically: staff must handle it.
    RECORDED = "recorded", _("Recorded for staff")
    #: The account holder said "this was not me": staff must review it.
    DISPUTED = "disputed", _("Disputed by the account holder")


class DeliveryStatus(models.TextChoices):
    """Life of an outbound delivery (a webhook or a staff alert; webhooks/outbox.py)."""

    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    #: Gave up: every attempt failed, or the failure cannot be retried.
    FAILED = "failed", _("Failed")
    #: Nothing to send to (an alert for a case without an owner, say).
    SKIPPED = "skipped", _("Skipped")
