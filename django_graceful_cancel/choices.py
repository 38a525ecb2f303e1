"""Enumerations shared by models, services, forms and the API."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SAVED = "saved", _("Saved")
    CANCELLED = "cancelled", _("Cancelled")
    REACTIVATED = "reactivated", _("Reactivated")
    ABANDONED = "abandoned", _("Abandoned")
    #: The customer withdrew from the contract within the statutory period (CRD art. 11a):
    #: ended at once, every payment to be refunded. Not a cancellation (services/withdrawals.py).
    WITHDRAWN = "withdrawn", _("Withdrawn")


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
    """The shipped compliance profiles (compliance/, docs/compliance.md). A site may register
    more (``COMPLIANCE_PROFILES``); cases store the name, so theirs fit in the same field. Rows
    written before 0.2 say "default", which is ``us`` (migration 0006 renames them)."""

    US = "us", _("US automatic-renewal laws")
    US_MN = "us-mn", _("Minnesota: no offer before the cancellation is confirmed")
    DE = "de", _("Germany: cancellation button (BGB section 312k)")
    FR = "fr", _("France: termination in three clicks")
    EU = "eu", _("EU: withdrawal function and a neutral cancellation page")


class JurisdictionSource(models.TextChoices):
    """Where a case's jurisdiction came from (compliance/jurisdiction.py)."""

    BILLING = "billing", _("Billing address")
    HEADER = "header", _("Request header")
    DEFAULT = "default", _("Site default")


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
    # A former customer subscribed again from a come-back link (services/returns.py).
    RETURNED = "returned", _("Customer came back")
    # The statutory withdrawal and its refund (services/withdrawals.py).
    WITHDRAWN = "withdrawn", _("Withdrawal received")
    REFUND_DONE = "refund_done", _("Refund of the withdrawal done by staff")
    # The evidence record (services/evidence.py): a page the customer was shown (at most one
    # event per page and case a minute), and staff exporting the record.
    PAGE_SHOWN = "page_shown", _("Page shown")
    EVIDENCE_EXPORTED = "evidence_exported", _("Evidence record exported")
    # A pause and its life (services/pauses.py).
    PAUSE_STARTED = "pause_started", _("Pause started")
    PAUSE_EXTENDED = "pause_extended", _("Pause extended")
    PAUSE_RESUMED = "pause_resumed", _("Subscription resumed after a pause")
    PAUSE_CANCELLED = "pause_cancelled", _("Cancelled during a pause")
    # A customer who went dark after cancelling, worth a personal try (services/reach.py).
    REACH_OUT_CREATED = "reach_out_created", _("Personal outreach task created")
    REACH_OUT_DONE = "reach_out_done", _("Personal outreach done")
    # The answers to a reason's follow-up questions (services/questions.py).
    QUESTIONS_ANSWERED = "questions_answered", _("Follow-up questions answered")
    # Staff decided on a suggestion of the private classifier (insights/suggestions.py).
    SUGGESTION_ACCEPTED = "suggestion_accepted", _("Classifier suggestion accepted")
    SUGGESTION_REJECTED = "suggestion_rejected", _("Classifier suggestion rejected")
    # us-mn: the customer answered "no, thanks" to "Would you like to hear an offer?"
    # (services/offer_question.py).
    OFFER_QUESTION_DECLINED = "offer_question_declined", _("Offer question declined")


class QuestionKind(models.TextChoices):
    """The kinds of a reason's follow-up question (``ReasonQuestion``)."""

    CHOICE = "choice", _("Single choice")
    LIKELIHOOD = "likelihood", _("0 to 10: how likely to come back")
    TEXT = "text", _("Short text")


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


class PauseState(models.TextChoices):
    """The life of a pause (services/pauses.py)."""

    PAUSED = "paused", _("Paused")
    RESUMED_EARLY = "resumed_early", _("Resumed early")
    RESUMED_ON_SCHEDULE = "resumed_on_schedule", _("Resumed on schedule")
    CANCELLED = "cancelled", _("Cancelled during the pause")


class ReachOutStatus(models.TextChoices):
    """A desk task to reach a customer who went dark after cancelling (services/reach.py)."""

    OPEN = "open", _("To reach")
    DONE = "done", _("Done")


class ReachOutOutcome(models.TextChoices):
    """What came of reaching out personally."""

    REACHED = "reached", _("Reached: we talked")
    CAME_BACK = "came_back", _("Reached: they are coming back")
    NO_ANSWER = "no_answer", _("No answer")
    DECLINED = "declined", _("Did not want to talk")


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


class WithdrawalStatus(models.TextChoices):
    """What became of a withdrawal sent through the withdrawal function (services/withdrawals.py)."""

    #: Stored as received (the no-login page); matching and the acknowledgement follow.
    RECEIVED = "received", _("Received")
    #: Matched to the account's own email; takes effect once the account holder confirms it
    #: from that address, or staff apply it (it ends the subscription at once).
    PENDING = "pending", _("Waiting for the account holder or staff")
    #: The case is withdrawn and the subscription ends at once.
    WITHDRAWN = "withdrawn", _("Withdrawn")
    #: Could not be applied automatically: staff must handle it.
    RECORDED = "recorded", _("Recorded for staff")


class ReturnStatus(models.TextChoices):
    """A former customer's return (services/returns.py)."""

    #: Sent to the billing provider's checkout page; not back yet.
    PENDING = "pending", _("Checkout started")
    #: Subscribed again.
    RETURNED = "returned", _("Came back")


class ReturnMethod(models.TextChoices):
    """How the backend resubscribed the customer (``ResubscribeResult.method``)."""

    SUBSCRIPTION = "subscription", _("New subscription on the saved payment method")
    CHECKOUT = "checkout", _("Checkout page of the billing provider")
    HOOK = "hook", _("The site's resubscribe hook")
    REDIRECT = "redirect", _("The site's own sign-up page")


class DeliveryStatus(models.TextChoices):
    """Life of an outbound delivery (a webhook or a staff alert; webhooks/outbox.py)."""

    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    #: Gave up: every attempt failed, or the failure cannot be retried.
    FAILED = "failed", _("Failed")
    #: Nothing to send to (an alert for a case without an owner, say).
    SKIPPED = "skipped", _("Skipped")
