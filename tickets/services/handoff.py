"""Who has the ticket: assignment, transfer, escalation (manual here, on a breach in ``services.lapses``), each
handed over with context.

"Don't pass them off": a transfer or escalation needs a hand-off note, which the next people read first
(it is in their notification and at the top of the ticket), and the whole history goes with the ticket.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from tickets.models import (
    EscalationLevel,
    Interaction,
    InteractionKind,
    Notification,
    NotificationEvent,
    Team,
    Ticket,
    reference_of,
)
from tickets.notifications import level_people, notification_rows, notify, save_notifications, team_people
from tickets.services.base import lock, record, require_staff, require_text, ticket_service

HANDOFF_MESSAGE = "Write a hand-off note: what you tried, what the customer expects, what is next."


@ticket_service
def assign(ticket: Ticket, *, assignee: User | None, by: User, now: datetime | None = None) -> Interaction:
    """Give the ticket to a member of its team (or to nobody). Another team's person needs a transfer."""
    now = now or timezone.now()
    require_staff(by)
    lock(ticket)
    if assignee is not None:
        require_staff(assignee, field="assignee")
        if not ticket.team.members.filter(pk=assignee.pk).exists():
            raise ValidationError(
                {"assignee": f"{assignee} is not in {ticket.team}: transfer the ticket to hand it to another team."}
            )
    if assignee == ticket.assignee:
        raise ValidationError({"assignee": "The ticket is already assigned that way."})
    previous = ticket.assignee
    ticket.assignee = assignee
    interaction = record(
        ticket,
        InteractionKind.ASSIGNMENT,
        now=now,
        by=by,
        data={"from": previous.pk if previous else None, "to": assignee.pk if assignee else None},
    )
    if assignee is not None and assignee != by:
        notify(
            [assignee.pk],
            ticket=ticket,
            event=NotificationEvent.ASSIGNMENT,
            key=f"interaction={interaction.pk}",
            message=f"{by.get_full_name() or by} gave you {ticket.reference} ({ticket.customer.name}).",
            now=now,
        )
    ticket.save()
    return interaction


def _team_for(assignee: User, ticket: Ticket, team: Team | None) -> Team:
    """The team a person-transfer lands in: the one named, else the ticket's if they are in it, else their only one."""
    teams = list(assignee.teams.all())
    if team is not None:
        if team not in teams:
            raise ValidationError({"assignee": f"{assignee} is not in {team}."})
        return team
    if ticket.team in teams:
        return ticket.team
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise ValidationError({"assignee": f"{assignee} is in no team yet: add them to one first."})
    raise ValidationError({"team": f"{assignee} is in several teams: choose which one takes the ticket."})


@ticket_service
def transfer(
    ticket: Ticket,
    *,
    by: User,
    note: str,
    team: Team | None = None,
    assignee: User | None = None,
    now: datetime | None = None,
) -> Interaction:
    """Hand the ticket to another team or person (same escalation level), with a hand-off note."""
    now = now or timezone.now()
    require_staff(by)
    note = require_text(note, field="note", message=HANDOFF_MESSAGE)
    if team is None and assignee is None:
        raise ValidationError({"team": "Choose the team or the person who takes the ticket."})
    lock(ticket)
    if not ticket.is_open:
        raise ValidationError({"team": f"{ticket.reference} is {ticket.get_status_display()}: reopen it first."})
    if assignee is not None:
        require_staff(assignee, field="assignee")
        team = _team_for(assignee, ticket, team)
    assert team is not None
    if (team, assignee) == (ticket.team, ticket.assignee):
        raise ValidationError({"team": "The ticket is already there."})
    before = (ticket.team, ticket.assignee)
    ticket.team, ticket.assignee = team, assignee
    interaction = record(
        ticket,
        InteractionKind.TRANSFER,
        now=now,
        by=by,
        body=note,
        data={
            "from_team": before[0].name,
            "to_team": team.name,
            "from_assignee": before[1].pk if before[1] else None,
            "to_assignee": assignee.pk if assignee else None,
        },
    )
    notify(
        [assignee.pk] if assignee else team_people([team.pk])[team.pk],
        ticket=ticket,
        event=NotificationEvent.TRANSFER,
        key=f"interaction={interaction.pk}",
        message=f"{by.get_full_name() or by} handed you {ticket.reference} ({ticket.customer.name}): {note}",
        now=now,
    )
    ticket.save()
    return interaction


def escalation_data(before: EscalationLevel, to: EscalationLevel, *, by: User | None) -> dict[str, Any]:
    """What an escalation's log entry records, manual or on a breach."""
    return {
        "from_level": before.position,
        "to_level": to.position,
        "from_team": before.team.name,
        "to_team": to.team.name,
        "automatic": by is None,
    }


def escalation_notices(entry: Interaction, people: list[int], *, to: EscalationLevel) -> list[Notification]:
    """The notices of an escalation (its saved log entry) to the people of level ``to``; the note is the entry's."""
    return notification_rows(
        people,
        ticket_id=entry.ticket_id,
        event=NotificationEvent.ESCALATION,
        key=f"interaction={entry.pk}",
        message=f"{reference_of(entry.ticket_id)} ({entry.customer_name}) escalated to {to.name}: {entry.body}",
        now=entry.created_at,
    )


def move_up(ticket: Ticket, *, to: EscalationLevel, by: User | None, note: str, now: datetime) -> Interaction:
    """Move the ticket to level ``to`` and its team, log it, tell the level's people. Callers save the ticket."""
    before = ticket.escalation_level
    ticket.escalation_level, ticket.team = to, to.team
    interaction = record(
        ticket, InteractionKind.ESCALATION, now=now, by=by, body=note, data=escalation_data(before, to, by=by)
    )
    save_notifications(escalation_notices(interaction, level_people(to), to=to))
    return interaction


@ticket_service
def escalate(ticket: Ticket, *, by: User, note: str, now: datetime | None = None) -> Interaction:
    """Move the ticket one level up its escalation path, with a hand-off note the next level reads first."""
    now = now or timezone.now()
    require_staff(by)
    note = require_text(note, field="note", message=HANDOFF_MESSAGE)
    lock(ticket)
    if not ticket.is_open:
        raise ValidationError({"note": f"{ticket.reference} is {ticket.get_status_display()}: reopen it first."})
    level = ticket.escalation_level.next_level()
    if level is None:
        current = ticket.escalation_level
        raise ValidationError(
            {"note": f"{ticket.reference} is already at the top of its path ({current.position}. {current.name})."}
        )
    interaction = move_up(ticket, to=level, by=by, note=note, now=now)
    # Handed on: the next level's people take it. (A breach keeps the assignee, who owes a new promise.)
    if ticket.assignee is not None and not level.team.members.filter(pk=ticket.assignee.pk).exists():
        ticket.assignee = None
    ticket.save()
    return interaction
