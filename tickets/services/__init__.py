"""Every change to a ticket goes through a function here.

Each service runs in one transaction with the ticket row locked, checks its rules, changes the
ticket and appends the Interaction that tells the story, with the customer's name as it is at that
moment. ``Ticket.save`` refuses to run outside these functions, so the log cannot get holes.

Views, API endpoints, tasks and commands translate their input and call these; they never save a
ticket themselves. Errors are ``django.core.exceptions.ValidationError`` with a message written for
the person who caused it, so the HTML form and the API show the same words.

Modules: ``base`` (the transaction, the lock, the log entry), ``conversation`` (opening, messages,
replies, notes, calls), ``details`` (subject, category, priority), ``customer`` (the details a sender
gave, the status link), ``status`` (the transitions table's
moves), ``promises`` (making promises and the clock), ``handoff`` (assignment, transfer, escalation),
``lapses`` (the sweep's writes for many tickets at once: at-risk flags, breaches and their escalations).

Also here, for the customers app (which reaches tickets only through ``tickets.models`` and this package):
what files a customer may attach and how one is served (``tickets.attachments``), and what the customer's
emails say (``tickets.customer_emails``).
"""

from tickets.attachments import ALLOWED, ALLOWED_WORDS, CheckedFile, check_uploads, download
from tickets.customer_emails import expectation, queue_links_email, status_url
from tickets.services.base import InvalidTransition, record, ticket_service
from tickets.services.conversation import add_note, log_call, open_ticket, receive_customer_message, reply
from tickets.services.customer import replace_status_link, use_sender_details
from tickets.services.details import change_details
from tickets.services.handoff import assign, escalate, transfer
from tickets.services.promises import make_promise, retime_warnings
from tickets.services.status import change_status, move_status, rate, reopen, resolve

__all__ = [
    "ALLOWED",
    "ALLOWED_WORDS",
    "CheckedFile",
    "InvalidTransition",
    "add_note",
    "assign",
    "change_details",
    "change_status",
    "check_uploads",
    "download",
    "escalate",
    "expectation",
    "log_call",
    "make_promise",
    "move_status",
    "open_ticket",
    "queue_links_email",
    "rate",
    "receive_customer_message",
    "record",
    "reopen",
    "replace_status_link",
    "reply",
    "resolve",
    "retime_warnings",
    "status_url",
    "ticket_service",
    "transfer",
    "use_sender_details",
]
