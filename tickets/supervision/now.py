"""Promises in danger now: at risk or breached, grouped by team or by agent, most urgent first.

One aggregate gives every count (per team, level and agent); one windowed query gives each group's most
urgent tickets with what the supervisor needs to act (customer, the promise in words, level, owner).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, F, Max, OuterRef, Prefetch, Q, Subquery
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from tickets.models import EscalationLevel, Promise, PromiseState, Team, Ticket, display_name

IN_DANGER = (PromiseState.AT_RISK, PromiseState.BREACHED)
GROUPINGS = {"team": "team_id", "agent": "assignee_id"}
# The most urgent tickets shown per group; the rest are counted and linked to the queue. Fewer per agent:
# a desk has many more agents than teams, and a page of hundreds of rows helps nobody (and is slow).
PER_GROUP = {"team": 10, "agent": 5}


@dataclass
class Group:
    """A team's or an agent's promises in danger (``key`` None: the unassigned)."""

    key: int | None
    name: str
    at_risk: int = 0
    breached: int = 0
    tickets: list[Ticket] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.at_risk + self.breached

    @property
    def more(self) -> int:
        return self.total - len(self.tickets)


@dataclass
class LevelCount:
    team: str
    position: int
    level: str
    at_risk: int
    breached: int


@dataclass
class Danger:
    group_by: str
    groups: list[Group]
    levels: list[LevelCount]
    members: dict[int, list[User]]  # team id -> who a ticket of that team can be reassigned to
    top_positions: dict[int, int]  # path id -> its last level: tickets there cannot be escalated
    _choices: dict[int, list[tuple[str, str]]] = field(default_factory=dict, repr=False)  # team id -> members

    @property
    def at_risk(self) -> int:
        return sum(group.at_risk for group in self.groups)

    @property
    def breached(self) -> int:
        return sum(group.breached for group in self.groups)

    def can_escalate(self, ticket: Ticket) -> bool:
        return ticket.escalation_level.position < self.top_positions.get(ticket.escalation_level.path_id, 0)

    def reassign_options(self, ticket: Ticket) -> str:
        """The <option>s of the ticket's reassign list: nobody, an owner a breach left outside the team, and
        the team's members; the current owner selected. Names are escaped once per team, not once a row."""
        members = self.members.get(ticket.team_id, [])
        if ticket.team_id not in self._choices:
            self._choices[ticket.team_id] = [(str(m.pk), conditional_escape(_person(m))) for m in members]
        choices = [("", "Nobody")]
        if ticket.assignee is not None and ticket.assignee not in members:
            outside = f"{_person(ticket.assignee)} (not in {ticket.team.name})"
            choices.append((str(ticket.assignee_id), conditional_escape(outside)))
        chosen = str(ticket.assignee_id or "")
        return mark_safe(  # noqa: S308 - values are our ids, labels escaped above
            "".join(
                f'<option value="{value}"{" selected" if value == chosen else ""}>{label}</option>'
                for value, label in [*choices, *self._choices[ticket.team_id]]
            )
        )


def danger(user: Any, *, group_by: str = "team", per_group: int | None = None) -> Danger:
    """What is in danger now, as ``user`` may see it, grouped by "team" or "agent" (five queries)."""
    in_danger = Ticket.objects.visible_to(user).filter(status__in=Ticket.OPEN_STATUSES, promise_state__in=IN_DANGER)
    key = GROUPINGS[group_by]
    counts: list[dict[str, Any]] = [
        dict(row)
        for row in in_danger.values(
            "team_id", "assignee_id", "team__name", "escalation_level__position", "escalation_level__name"
        ).annotate(
            at_risk=Count("pk", filter=Q(promise_state=PromiseState.AT_RISK)),
            breached=Count("pk", filter=Q(promise_state=PromiseState.BREACHED)),
        )
    ]
    groups: dict[int | None, Group] = {}
    for row in counts:
        group = groups.setdefault(row[key], Group(key=row[key], name=row["team__name"] if group_by == "team" else ""))
        group.at_risk += row["at_risk"]
        group.breached += row["breached"]
    for ticket in _most_urgent(in_danger, key=key, per_group=per_group or PER_GROUP[group_by]):
        owner = groups.get(getattr(ticket, key))
        if owner is None:  # flagged by the sweep between the two queries: shown on the next refresh
            continue
        owner.tickets.append(ticket)
        if group_by == "agent":
            owner.name = _person(ticket.assignee)
    return Danger(
        group_by=group_by,
        groups=sorted(groups.values(), key=lambda group: (-group.breached, -group.at_risk, group.name.lower())),
        levels=_levels(counts),
        members=_members({row["team_id"] for row in counts}),
        top_positions=dict(EscalationLevel.objects.values_list("path_id").annotate(Max("position")).order_by()),
    )


def _most_urgent(in_danger: Any, *, key: str, per_group: int) -> list[Ticket]:
    """Each group's ``per_group`` nearest (or longest overdue) promises, with the words last promised."""
    latest_words = Promise.objects.filter(ticket=OuterRef("pk")).order_by("-made_at", "-id").values("words")[:1]
    place = Window(RowNumber(), partition_by=[F(key)], order_by=[F("promise_due_at").asc(), F("pk").asc()])
    return list(
        in_danger.annotate(place=place, promise_words=Subquery(latest_words))
        .filter(place__lte=per_group)
        .select_related("customer", "assignee", "team", "escalation_level")
        .order_by("promise_due_at", "pk")
    )


def _levels(counts: list[dict[str, Any]]) -> list[LevelCount]:
    """At risk and breached per team and escalation level."""
    totals: dict[tuple[str, int, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in counts:
        total = totals[(row["team__name"], row["escalation_level__position"], row["escalation_level__name"])]
        total[0] += row["at_risk"]
        total[1] += row["breached"]
    return [
        LevelCount(team=team, position=position, level=level, at_risk=at_risk, breached=breached)
        for (team, position, level), (at_risk, breached) in sorted(totals.items(), key=lambda item: item[0][:2])
    ]


def _members(team_ids: set[int]) -> dict[int, list[User]]:
    people = User.objects.filter(is_active=True, is_staff=True).order_by("first_name", "last_name", "username")
    teams = Team.objects.filter(pk__in=team_ids).prefetch_related(Prefetch("members", people))
    return {team.pk: list(team.members.all()) for team in teams}


def _person(user: User | None) -> str:
    return display_name(user, nobody="Unassigned")
