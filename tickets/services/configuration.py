"""The rules that guard the supervisors' configuration (teams, escalation paths with their levels,
categories), as plain functions the desk's forms (``tickets.configuration``) and the API
(``tickets.api.configuration``) both call, so a rule and its words live in one place.

Each refuses with ``ValidationError`` and a message that says what to do: what may be deleted, names and
slugs that are taken, how a path's levels are kept, removed and renumbered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Max, Q
from django.utils.text import slugify

from tickets.models import Category, EscalationLevel, EscalationPath, Promise, Team, Ticket
from tickets.services.promises import retime_warnings
from tickets.templatetags.desk import person

R = TypeVar("R")


def join_words(items: list[str]) -> str:
    """A list as a sentence says it: "a", "a and b", "a, b and c"."""
    return items[-1] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# --- Every row ------------------------------------------------------------------------------------


def check_name(model: type[models.Model], name: str, *, pk: Any, noun: str) -> None:
    """The name is how supervisors tell rows apart, so one that differs only in case ("billing") is refused
    too, with a message saying which row has it."""
    taken = model._default_manager.filter(name__iexact=name).exclude(pk=pk).first()
    if taken is not None:
        raise ValidationError(f"The name “{taken}” is taken by another {noun}: choose another.")


def save_together(write: Callable[[], R]) -> R:
    """Run ``write`` (a row and its lists) in one transaction. A clash the checks could not see (someone saved
    the same name a moment earlier) is refused like any other mistake, rather than failing with a server error."""
    try:
        with transaction.atomic():
            return write()
    except IntegrityError:
        raise ValidationError(
            "Someone saved a clashing change a moment ago, so nothing was saved: check the names and try again."
        ) from None


def delete_unless_used(obj: models.Model, in_use: Callable[[], str]) -> None:
    """Delete a row nothing points at; otherwise raise ``ValidationError`` saying what does.

    Counted first, because Django's PROTECT would load every protecting row just to report them; the
    ``ProtectedError`` catch covers a ticket that arrives between the count and the delete.
    """
    refusal = in_use()
    if refusal:
        raise ValidationError(refusal)
    try:
        with transaction.atomic():
            obj.delete()
    except models.ProtectedError:
        raise ValidationError(in_use() or f"{obj} is in use and can't be deleted.") from None


# --- Teams ---------------------------------------------------------------------------------------


def check_lead(lead: User | None, members: Iterable[User]) -> None:
    """The lead must be among the members: refused rather than added silently, so nobody joins a team's queue
    without the supervisor seeing it."""
    if lead is not None and lead not in members:
        raise ValidationError({"lead": f"{person(lead)} leads the team, so tick them among the members too."})


def team_in_use(team: Team) -> str:
    """Why the team can't be deleted, or "" if nothing points at it (three counting queries)."""
    tickets = Ticket.objects.filter(Q(team=team) | Q(first_response_team=team)).count()
    promises = Promise.objects.filter(team=team).count()
    levels = [
        f"level {level.position} of {level.path}"
        for level in team.escalation_levels.select_related("path").order_by("path__name", "position")
    ]
    uses = []
    if tickets or promises:
        uses.append(
            "still has "
            + join_words([_count(n, noun) for n, noun in ((tickets, "ticket"), (promises, "promise")) if n])
        )
    if levels:
        uses.append("is " + join_words(levels))
    if not uses:
        return ""
    advice = []
    if levels:
        advice.append("Give those levels another team first.")
    if tickets or promises:
        advice.append("Tickets and promises keep their team as history: a team that has had any can only be renamed.")
    return f"{team} can't be deleted: it {', and '.join(uses)}. {' '.join(advice)}"


def delete_team(team: Team) -> None:
    delete_unless_used(team, lambda: team_in_use(team))


# --- Escalation paths and their levels -----------------------------------------------------------


def level_in_use(level: EscalationLevel) -> str:
    """Why the level can't be removed, or "" when no ticket is at it."""
    tickets = Ticket.objects.filter(escalation_level=level).count()
    if not tickets:
        return ""
    return (
        f"Level {level.position} “{level.name}” can't be removed: {_count(tickets, 'ticket')} "
        f"{'is' if tickets == 1 else 'are'} at it. Escalate or move the open ones first; a level that closed "
        "tickets ended at stays, but can be renamed or given another team."
    )


def check_levels(kept: int, removed: list[EscalationLevel]) -> None:
    """A path keeps at least one level (tickets start at level 1), and removes none that tickets are at."""
    if not kept:
        raise ValidationError("A path needs at least one level: tickets start at level 1.")
    refusals = [refusal for refusal in (level_in_use(level) for level in removed) if refusal]
    if refusals:
        raise ValidationError(refusals)


def save_levels(
    path: EscalationPath, kept: list[tuple[EscalationLevel, Iterable[User]]], removed: list[EscalationLevel]
) -> None:
    """Write the path's levels numbered 1..n in the order of ``kept`` (each with the people it notifies).
    Runs inside the caller's transaction (``save_together``).

    1. Delete the levels removed (one tickets are still at is refused: PROTECT).
    2. Lift the kept levels above every position in use, in one UPDATE: PostgreSQL checks the unique
       (path, position) constraint row by row, so renumbering in place could collide midway.
    3. Number the levels 1..n in order and save them, new ones too, with their people.
    4. The path's first team may have changed, and with it the calendar its categories run on in business time:
       their promises' warnings are re-timed (``promises.retime_warnings``; nothing moves if it is the same).
    """
    for level in removed:
        try:
            level.delete()
        except models.ProtectedError:  # tickets reached it since the levels were checked
            raise ValidationError(level_in_use(level)) from None
    levels = EscalationLevel.objects.filter(path=path)
    highest = levels.aggregate(highest=Max("position"))["highest"] or 0
    levels.update(position=F("position") + max(highest, len(kept)))
    for position, (level, notify) in enumerate(kept, start=1):
        level.path, level.position = path, position
        level.save()
        level.notify.set(notify)
    retime_warnings(Ticket.objects.filter(category__escalation_path=path, category__business_hours=True))


def path_in_use(path: EscalationPath) -> str:
    """Why the path can't be deleted, or "" if no category uses it and no ticket is at its levels."""
    categories = [category.name for category in path.categories.order_by("name")]
    tickets = Ticket.objects.filter(escalation_level__path=path).count()
    uses = []
    if categories:
        one = len(categories) == 1
        names = join_words(categories)
        uses.append(f"the {'category' if one else 'categories'} {names} still use{'s' if one else ''} it")
    if tickets:
        uses.append(f"{_count(tickets, 'ticket')} {'is' if tickets == 1 else 'are'} at its levels")
    if not uses:
        return ""
    advice = "Give those categories another path first." if categories else ""
    if tickets:
        advice += " Tickets keep their level as history: a path that has had any can only be renamed."
    return f"{path} can't be deleted: {' and '.join(uses)}. {advice.strip()}"


def delete_path(path: EscalationPath) -> None:
    delete_unless_used(path, lambda: path_in_use(path))


# --- Categories ----------------------------------------------------------------------------------


def category_slug(slug: str, *, name: str, pk: Any) -> str:
    """The slug typed, or one made from the name; refused when another category has it."""
    slug = slug or slugify(name)
    if not slug:
        raise ValidationError("Type a slug (letters, digits and hyphens): there is no name to make one from.")
    taken = Category.objects.filter(slug=slug).exclude(pk=pk).first()
    if taken is not None:
        raise ValidationError(f"The slug “{slug}” is taken by the category “{taken}”: type another.")
    return slug


def check_path_has_levels(path: EscalationPath) -> None:
    """A category's tickets start at level 1 of its path, so the path needs one."""
    if not path.levels.exists():
        raise ValidationError(f"{path} has no levels yet, and tickets start at level 1: add one to it first.")
