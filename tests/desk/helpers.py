"""Reading desk pages and posting desk actions, so the desk tests say what they check in few words."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone

from tickets import services
from tickets.models import Interaction, Notification, NotificationEvent, Promise, Team, Ticket, ticket_writes

# --- URLs ----------------------------------------------------------------------------------------


def ticket_url(ticket: Ticket) -> str:
    return reverse("desk:ticket", args=[ticket.reference])


def action_url(ticket: Ticket, action: str) -> str:
    return reverse("desk:action", args=[ticket.reference, action])


def check_url(ticket: Ticket) -> str:
    return reverse("desk:promise-check", args=[ticket.reference])


# --- Reading pages -------------------------------------------------------------------------------


def html(response: HttpResponse) -> str:
    return response.content.decode()


def references(response: HttpResponse) -> list[str]:
    """The tickets a queue page lists, in the order it lists them."""
    return re.findall(r'data-reference="([^"]+)"', html(response))


def counts(response: HttpResponse) -> dict[str, int]:
    """The number on each queue view's tab."""
    return {view: int(n) for view, n in re.findall(r'data-count="(\w+)">(\d+)<', html(response))}


def form_html(response: HttpResponse, ticket: Ticket, action: str) -> str:
    """The HTML of one action's form on the ticket page (errors and typed values included)."""
    page = html(response)
    start = page.index(f'action="{action_url(ticket, action)}"')
    return page[start : page.index("</form>", start)]


def assert_sent_to_sign_in(response: HttpResponse, path: str) -> None:
    """A redirect to the login page that brings the visitor back to ``path`` afterwards."""
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("login")
    assert parse_qs(location.query)["next"] == [path]


# --- Times as people type them -------------------------------------------------------------------


def typed(moment: datetime, zone: str = "UTC") -> str:
    """What a datetime-local input sends for ``moment`` seen in ``zone``: wall-clock minutes, no zone."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def next_fall_back(zone: str = "Europe/London") -> datetime:
    """The next night (at least a day away) the clocks go back in ``zone``: a naive local midnight."""
    tz = ZoneInfo(zone)
    day = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None) + timedelta(days=1)
    while (day + timedelta(hours=4)).replace(tzinfo=tz).utcoffset() >= day.replace(tzinfo=tz).utcoffset():
        day += timedelta(days=1)
    return day


# --- Writing test data ---------------------------------------------------------------------------


def force(ticket: Ticket, **fields: Any) -> Ticket:
    """Set ticket fields directly, standing in for the sweep (``Ticket.save`` is for services only)."""
    with ticket_writes():
        Ticket.objects.filter(pk=ticket.pk).update(**fields)
    ticket.refresh_from_db()
    return ticket


def promised(ticket: Ticket, *, due_in: timedelta, state: str = "on_track") -> Ticket:
    """A ticket whose current promise is due ``due_in`` from now, in ``state`` (as the sweep left it)."""
    due = timezone.now() + due_in
    return force(ticket, promise_state=state, promise_due_at=due, promise_warn_at=due - timedelta(minutes=30))


def notice(recipient: User, ticket: Ticket, *, message: str = "Something happened.") -> Notification:
    return Notification.objects.create(
        recipient=recipient,
        ticket=ticket,
        event=NotificationEvent.ASSIGNMENT,
        dedupe_key=f"test:{recipient.pk}:{ticket.pk}:{Notification.objects.count()}",
        message=message,
        created_at=timezone.now(),
    )


def written(ticket: Ticket) -> tuple[Any, ...]:
    """Everything an action could write about a ticket: compare before and after to prove nothing was."""
    return (
        Interaction.objects.filter(ticket=ticket).count(),
        Promise.objects.filter(ticket=ticket).count(),
        Notification.objects.filter(ticket=ticket).count(),
        Ticket.objects.filter(pk=ticket.pk)
        .values("status", "team", "assignee", "escalation_level", "promise_state", "promise_due_at")
        .get(),
    )


# --- A valid post for every action ---------------------------------------------------------------


def _first_member(ticket: Ticket) -> str:
    return str(ticket.team.members.order_by("pk").values_list("pk", flat=True).first())


# Each action's form, filled in correctly for a new ticket of Dave's in Billing (where alice works).
# Adding an action to tickets.action_forms.ACTIONS without adding it here fails the permission tests.
VALID_POSTS: dict[str, Callable[[Ticket], dict[str, str]]] = {
    "reply": lambda ticket: {"body": "We have refunded the second charge."},
    "note": lambda ticket: {"body": "Payment provider shows two captures."},
    "call": lambda ticket: {"minutes": "12", "summary": "Walked Dave through the refund."},
    "promise": lambda ticket: {
        "due_at": typed(timezone.now() + timedelta(days=1)),
        "words": "By this time tomorrow.",
    },
    "transfer": lambda ticket: {"team": str(Team.objects.get(name="Technical").pk), "note": "Gateway bug, see logs."},
    "escalate": lambda ticket: {"note": "Needs a refund above my limit."},
    "assign": lambda ticket: {"assignee": _first_member(ticket)},
    "status": lambda ticket: {"to": "waiting", "note": "Asked for the invoice number."},
    "resolve": lambda ticket: {"summary": "Refunded the duplicate charge."},
    "reopen": lambda ticket: {"reason": "The refund never arrived."},
    "details": lambda ticket: {
        "subject": "Charged twice in November",
        "category": str(ticket.category_id),
        "priority": "3",
    },
    "use-sender-details": lambda ticket: {},
    "new-link": lambda ticket: {"note": "He forwarded the link to his supplier."},
}


def prepare(action: str, ticket: Ticket, *, by: User) -> None:
    """Bring the ticket to where the action makes sense: only a resolved ticket can be reopened; the sender's
    details can be used only where a message of the customer's was sent under other details than the record's."""
    if action == "reopen":
        services.resolve(ticket, by=by, summary="Refunded the duplicate charge.")
        ticket.refresh_from_db()
    if action == "use-sender-details":
        write_as_david(ticket)


def write_as_david(ticket: Ticket) -> None:
    """Dave writes again signing "David Jones" (an email's display name, say): not what his record says."""
    services.receive_customer_message(ticket, body="It's David, by the way.", name="David Jones")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
