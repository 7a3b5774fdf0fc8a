"""The two public doors, the request form and the status link: their rules in one place, for the customer's
pages (``customers.views``) and the public API (``customers.public_api``) alike, so the two can never drift apart.

Both are rate-limited per address (a flood costs no database work, guessing status tokens is slow); a
wrong status token gets the same 404 as a missing request, a replaced one says it was replaced; a bot that
fills the honeypot is told nothing. A resolved request's link takes answers (a rating, a reopening) for
``STATUS_LINK_ANSWER_DAYS`` after the resolution; after that it only shows the story.

When the limits' store (Redis) cannot count, each limit follows its own rule (``helpdesk.ratelimit``):

- the request form's limits fail closed (``Paused``, a 503 with ``Retry-After``, nothing stored): uncounted,
  one address could open tickets and mail acknowledgements to any typed address without end;
- the "email me my links" form's limits fail closed too (``customers.views.resend_links``): it sends mail to
  whatever address is typed;
- the status link's limit fails open: a token is 256 random bits, so the limit only slows a guess that can't
  succeed anyway, and a customer must still reach their request while Redis is away.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404

from customers.forms import RequestForm
from helpdesk.forms import add_service_errors
from helpdesk.ratelimit import FAIL_CLOSED, FAIL_OPEN, Unavailable, WhenUnavailable, allow, seconds_left
from helpdesk.text import normalise_email
from tickets import services
from tickets.models import PromiseOutcome, ReplacedLink, Ticket, TicketStatus, rating_of, status_token_digest

HOUR, MINUTE = 3600, 60


class TooMany(Exception):
    """Over a rate limit: ``message`` is for the person, ``retry_after`` the seconds until the window ends."""

    def __init__(self, message: str, *, window_seconds: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = seconds_left(window_seconds)


class LinkReplaced(Exception):
    """Staff replaced this status link with a new one, emailed to the customer."""


REPLACED = (
    "This link was replaced with a new one, which we emailed to the address the request came from. While the "
    "request is open you can also ask for your links again: we send them to that address only."
)


class Paused(Exception):
    """A limit that fails closed could not count (Redis down, hanging or full): nothing was done. ``message``
    is for the person, ``retry_after`` the seconds to wait; the pages and the API answer 503."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


REQUESTS_PAUSED = "We cannot take new requests for a moment, so yours was not saved. Please send it again in a minute."


class Ignored(Exception):
    """A bot filled the honeypot: nothing was counted or stored. Answer as if all went well."""


def check_rate(
    key: str,
    *,
    limit: int,
    window_seconds: int,
    message: str,
    when_unavailable: WhenUnavailable,
    paused: str | None = None,
) -> None:
    """Count one hit: beyond ``limit``, TooMany(``message``). When the store cannot count, ``when_unavailable``
    decides: ``FAIL_OPEN`` lets the hit through, ``FAIL_CLOSED`` raises Paused(``paused``), which such a limit
    must therefore say."""
    if when_unavailable == FAIL_CLOSED and not paused:
        raise ValueError(f"The limit {key.split(':')[0]} fails closed: say what the person is told (paused=...).")
    try:
        allowed = allow(key, limit=limit, window_seconds=window_seconds, when_unavailable=when_unavailable)
    except Unavailable as error:
        raise Paused(paused or "", retry_after=error.retry_after) from None
    if not allowed:
        raise TooMany(message, window_seconds=window_seconds)


def submit_request(form: RequestForm, *, ip: str) -> Ticket | None:
    """A request from the web form, sent by the page or through the API: one set of checks and limits.

    1. The address's hourly limit, before the form is read (a flood costs no database work), bots
       included: TooMany; Paused if the limit cannot count (it fails closed, as the email's does).
    2. A bot (the honeypot filled in) is ignored before anything is stored: raises Ignored.
    3. The form's checks, then the email's hourly limit (TooMany).
    4. Open the ticket: the same submission key finds the ticket it opened before (a double click, a
       retry), but only for the same email, so a key never hands out another customer's request.
    Returns None when the input was refused: the faults are on the form, the service's among them.
    """
    check_rate(
        f"request-ip:{ip}",
        limit=settings.REQUESTS_PER_IP_PER_HOUR,
        window_seconds=HOUR,
        message="We have received many requests from your network. Please try again in an hour.",
        when_unavailable=FAIL_CLOSED,
        paused=REQUESTS_PAUSED,
    )
    if form.is_bot:
        raise Ignored
    if not form.is_valid():
        return None
    data = form.cleaned_data
    check_rate(
        f"request-email:{normalise_email(data['email'])}",
        limit=settings.REQUESTS_PER_EMAIL_PER_HOUR,
        window_seconds=HOUR,
        message="You have sent several requests in the last hour. Please wait before sending more.",
        when_unavailable=FAIL_CLOSED,
        paused=REQUESTS_PAUSED,
    )
    try:
        ticket = services.open_ticket(
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            subject=data["subject"],
            body=data["description"],
            category=data["category"],
            submission_key=data["submission_key"],
            attachments=data["attachments"],
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    if ticket.customer.email != normalise_email(data["email"]):
        form.add_error("submission_key", "This submission key was used for another request: send a new one.")
        return None
    return ticket


def link_expired(ticket: Ticket, *, now: datetime) -> bool:
    """A closed request's link stops working some time after it was resolved: old links in old inboxes
    should not keep a customer's history readable forever."""
    if ticket.status != "closed" or ticket.resolved_at is None:
        return False
    return now - ticket.resolved_at > timedelta(days=settings.STATUS_LINK_DAYS_AFTER_CLOSE)


def takes_answers(ticket: Ticket, *, now: datetime) -> bool:
    """Whether the link still takes answers (a message, a rating, a reopening): always while the request is
    open, for ``STATUS_LINK_ANSWER_DAYS`` after it was resolved. Later, the problem is a new request: an old
    link in an old inbox (forwarded, leaked) should not reopen or re-rate a long-settled request."""
    return ticket.resolved_at is None or now - ticket.resolved_at <= timedelta(days=settings.STATUS_LINK_ANSWER_DAYS)


def check_takes_answers(ticket: Ticket, *, now: datetime) -> None:
    """Refuse an answer through a link that no longer takes them."""
    if not takes_answers(ticket, now=now):
        raise ValidationError(
            f"{ticket.reference} was resolved more than {settings.STATUS_LINK_ANSWER_DAYS} days ago, so this link "
            f"no longer takes answers. If you need us again, send a new request and mention {ticket.reference}."
        )


def open_link(token: str, *, ip: str, now: datetime) -> Ticket:
    """The request behind a status link, for its page and its API alike, at ``now`` (the database's clock, read
    once per request by the caller, which passes the same ``now`` to the link's other rules).

    1. Count the view against the address's per-minute limit (so guessing tokens is slow): TooMany. If the
       limit cannot count, the view goes through (it fails open: see the module's docstring).
    2. A link staff replaced raises LinkReplaced (its page says so, and where the new one went).
    3. A wrong token, and a closed request's expired link, raise the same Http404 as a missing one.
    """
    check_rate(
        f"status:{ip}",
        limit=settings.STATUS_VIEWS_PER_IP_PER_MINUTE,
        window_seconds=MINUTE,
        message="You opened a lot of pages in a short time. Please wait a minute.",
        when_unavailable=FAIL_OPEN,
    )
    ticket = Ticket.objects.select_related("customer", "team", "assignee", "category").filter(token=token).first()
    if ticket is None and ReplacedLink.objects.filter(digest=status_token_digest(token)).exists():
        raise LinkReplaced
    if ticket is None or link_expired(ticket, now=now):
        raise Http404("No such request.")
    return ticket


def status_facts(ticket: Ticket, *, now: datetime) -> dict[str, Any]:
    """What the customer may know about their request: the public timeline, the current promise, their rating
    of the latest resolution, and whether they can still rate or reopen it (``can_answer``: resolved, and the
    link takes answers). Internal notes are not public, so they are never in the timeline."""
    resolution = ticket.interactions.latest_resolution()
    return {
        "ticket": ticket,
        "customer": ticket.customer,
        "timeline": ticket.interactions.public()
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "id"),
        "promise": ticket.promises.exclude(outcome=PromiseOutcome.SUPERSEDED).order_by("-made_at").first(),
        "rating": rating_of(resolution) if resolution else None,
        "can_answer": ticket.status == TicketStatus.RESOLVED and takes_answers(ticket, now=now),
    }
