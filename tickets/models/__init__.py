"""The tickets domain, one module per concept; every model and rule is importable from ``tickets.models``.

Reads are QuerySet methods named for the question they answer; writes go through ``tickets.services``
(``Ticket.save`` refuses to run anywhere else, so the interaction log stays complete). Constraints live in
the database too, not only in Python.
"""

# The estimates and the imported history are models of this app kept beside the code that reads them.
from tickets.estimates.models import Estimate, HistoryImport, PastTicket
from tickets.models.calendar import AROUND_THE_CLOCK, Calendar, ClosedDay
from tickets.models.choices import (
    OUTBOX_OPEN_STATES,
    STATUS_TRANSITIONS,
    TAKEN_DOWN_CHANNELS,
    Author,
    Channel,
    EmailState,
    InteractionKind,
    NotificationEvent,
    Priority,
    PromiseOutcome,
    PromiseState,
    TicketStatus,
    allowed_statuses,
)
from tickets.models.engine import FiguresSnapshot, SweepHeartbeat
from tickets.models.log import (
    AppendOnlyError,
    Attachment,
    Interaction,
    InteractionQuerySet,
    Promise,
    Rating,
    ReplacedLink,
    rating_of,
)
from tickets.models.organisation import Category, EscalationLevel, EscalationLevelQuerySet, EscalationPath, Team
from tickets.models.outbox import CustomerEmail, Notification, OutboxEmail
from tickets.models.people import (
    ApiToken,
    ApiTokenQuerySet,
    Role,
    display_name,
    is_supervisor,
    name_of,
    remember_supervisor,
    team_ids_of,
    team_ids_query,
)
from tickets.models.ticket import (
    OPEN_STATUSES,
    QUEUE_INDEX_KEYS,
    REFERENCE_OFFSET,
    REFERENCE_PREFIX,
    Ticket,
    TicketQuerySet,
    TicketWriteOutsideServices,
    new_status_token,
    reference_of,
    status_token_digest,
    ticket_writes,
)
