"""The email outbox: notifications to staff and emails to customers (sent by ``tickets.outbox``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tickets.models.choices import OUTBOX_OPEN_STATES, EmailState, NotificationEvent
from tickets.models.log import Interaction
from tickets.models.ticket import Ticket

# --- The email outbox ---------------------------------------------------------------------------


class OutboxEmail(models.Model):
    """A row that is also an email to send, the outbox's fields (``tickets.outbox``): Notification, CustomerEmail.

    pending -> sending -> sent (or no address); a failed send goes back to pending until ``next_attempt_at``, or
    is given up after ``outbox.MAX_ATTEMPTS``; a row left sending by a drain that died is *in doubt*: sent once
    more, and given up if it comes into doubt again.
    """

    email_state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.PENDING)
    # When the mail server accepted it (for no address: when the outbox found that out).
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Sends tried, counted when a drain claims the row, so a send its worker never finished counts too.
    email_attempts = models.PositiveSmallIntegerField(default=0)
    # After a failed send, a pending row waits until then.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # While sending: when the drain that claimed the row began, by the database's clock.
    sending_since = models.DateTimeField(null=True, blank=True)
    # Times a drain found the row left sending by a drain that was gone: the mail may or may not have left.
    times_in_doubt = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(condition=Q(email_state__in=EmailState.values), name="%(class)s_email_state_valid"),
            models.CheckConstraint(
                condition=Q(email_state=EmailState.SENDING, sending_since__isnull=False)
                | (~Q(email_state=EmailState.SENDING) & Q(sending_since__isnull=True)),
                name="%(class)s_sending_since_iff_sending",
            ),
        ]


# --- Notifications ------------------------------------------------------------------------------


class Notification(OutboxEmail):
    """An in-app notice, also the outbox for its email. The dedupe key makes each event notify once."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    # No index of its own: nothing looks notifications up by ticket (a ticket is never deleted: its log protects
    # it), and every notification the sweep writes would keep one up.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notifications", db_index=False)
    event = models.CharField(max_length=30, choices=NotificationEvent.choices)
    # e.g. "breach:promise=17:user=4": one notification per (event, promise, recipient), whatever retries.
    dedupe_key = models.CharField(max_length=200)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta(OutboxEmail.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [
            # The header badge: WHERE recipient_id = … AND read_at IS NULL.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
            # The outbox's claim (WHERE email_state = 'pending' AND due, or 'sending' since long, ORDER BY id) and
            # /healthz's counts: only the rows still open, never the sent ones.
            models.Index(
                fields=["id"], condition=Q(email_state__in=OUTBOX_OPEN_STATES), name="notification_outbox_idx"
            ),
        ]
        constraints = [
            *OutboxEmail.Meta.constraints,
            models.CheckConstraint(condition=Q(event__in=NotificationEvent.values), name="notification_event_valid"),
            # Unique as a constraint, not a field option: only ever compared whole, it needs no second index for
            # LIKE (which unique=True adds to a CharField on PostgreSQL, and every insert would keep up).
            models.UniqueConstraint(fields=["dedupe_key"], name="notification_dedupe_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} for {self.recipient} on ticket {self.ticket_id}"


class CustomerEmail(OutboxEmail):
    """An email to the customer about one interaction (a reply, a promise, a new link ...): the outbox row,
    rendered when the interaction was written, sent by a worker after commit. One per interaction, whatever retries."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="customer_emails")
    # The interaction it tells about; none for a "your links" email.
    interaction = models.OneToOneField(
        Interaction, null=True, blank=True, on_delete=models.CASCADE, related_name="customer_email"
    )
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField()
    created_at = models.DateTimeField()

    class Meta(OutboxEmail.Meta):
        indexes = [
            # As notification_outbox_idx: the outbox's claim and /healthz's counts.
            models.Index(
                fields=["id"], condition=Q(email_state__in=OUTBOX_OPEN_STATES), name="customer_email_outbox_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Email to {self.to} about ticket {self.ticket_id}"
