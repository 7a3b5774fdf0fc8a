"""The demo world: Tillwise's staff, teams, paths, categories, customers and their conversations.

The world itself is data, in ``world.toml`` beside this module; this reads it into the shapes of
``tickets.demo.shapes``, refusing a file that names a field, an action or a duration it does not know.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from customers.models import CustomerTier
from tickets.demo.shapes import (
    Action,
    DemoCategory,
    DemoCustomer,
    DemoPath,
    DemoPromise,
    DemoTicket,
    DemoUser,
    StaffRole,
    Step,
)
from tickets.models import Channel, Priority

WORLD_FILE = Path(__file__).with_name("world.toml")
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_ACTIONS = tuple(Action)
_PRIORITIES = {label.lower(): Priority(value) for value, label in Priority.choices}


def duration(text: str) -> timedelta:
    """``1d2h30m`` (days, hours, minutes, seconds, each optional, in that order) as a timedelta."""
    match = _DURATION.fullmatch(text)
    if not text or not match:
        raise ValueError(f"{text!r} is not a duration such as 1d2h30m.")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _step(data: dict[str, Any]) -> Step:
    actions = [Action(key) for key in data if key in _ACTIONS]
    if len(actions) != 1:
        raise ValueError(f"A step names one action ({', '.join(_ACTIONS)}) with its delay, not {data}.")
    (action,) = actions
    length = data.get("length")
    return Step(
        action,
        duration(data[action]),
        data.get("text", ""),
        data.get("by", ""),
        duration(length) if length else timedelta(0),
    )


def _ticket(data: dict[str, Any]) -> DemoTicket:
    promise = data.get("promise")
    return DemoTicket(
        data["email"],
        data["subject"],
        data["category"],
        duration(data["opened_ago"]),
        data["body"],
        tuple(_step(step) for step in data.get("steps", ())),
        channel=Channel(data.get("channel", Channel.WEB)),
        priority=_PRIORITIES[data["priority"]] if "priority" in data else None,
        as_name=data.get("as_name", ""),
        promise=DemoPromise(
            duration(promise["made_after"]), duration(promise["due_in"]), promise["words"], promise.get("reason", "")
        )
        if promise
        else None,
    )


def _category(data: dict[str, Any]) -> DemoCategory:
    return DemoCategory(
        data["name"],
        data["slug"],
        data["description"],
        _PRIORITIES[data["default_priority"]],
        data["path"],
        duration(data["default_target"]),
        warn_min=duration(data["warn_min"]) if "warn_min" in data else None,
    )


with WORLD_FILE.open("rb") as _file:
    _WORLD = tomllib.load(_file)

SUPERVISOR: str = _WORLD["supervisor"]
TEAM_NAMES: tuple[str, ...] = tuple(_WORLD["teams"])
CLOSED_QUIETLY: str = _WORLD["closed_quietly"]
DEMO_USERS = tuple(DemoUser(**{**user, "role": StaffRole(user["role"])}) for user in _WORLD["users"])
DEMO_PATHS = tuple(
    DemoPath(path["name"], path["description"], tuple((level, team) for level, team in path["levels"]))
    for path in _WORLD["paths"]
)
DEMO_CATEGORIES = tuple(_category(category) for category in _WORLD["categories"])
# Each calendar's fields as the Calendar model takes them, its weekdays as people write them.
DEMO_CALENDARS: tuple[dict[str, Any], ...] = tuple(_WORLD.get("calendars", ()))
DEMO_CUSTOMERS = tuple(
    DemoCustomer(**{**customer, "tier": CustomerTier(customer.get("tier", CustomerTier.STANDARD))})
    for customer in _WORLD["customers"]
)
DEMO_TICKETS = tuple(_ticket(ticket) for ticket in _WORLD["tickets"])

CUSTOMERS_BY_EMAIL: dict[str, DemoCustomer] = {customer.email: customer for customer in DEMO_CUSTOMERS}
TICKETS_BY_EMAIL: dict[str, list[DemoTicket]] = defaultdict(list)
for _ticket_spec in DEMO_TICKETS:
    TICKETS_BY_EMAIL[_ticket_spec.email].append(_ticket_spec)
