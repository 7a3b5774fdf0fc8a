"""Desk forms: they parse and check what an agent typed; the services decide and write.

Here: the staff pickers, the queue's filters and a ticket taken down by an agent. The actions on a ticket
page have their own module, ``tickets.action_forms``; the fast widgets, ``helpdesk.forms``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet

from helpdesk.forms import QuickSelect
from helpdesk.text import check_phone, no_control_characters, one_line
from tickets import services
from tickets.models import (
    TAKEN_DOWN_CHANNELS,
    Category,
    Channel,
    Priority,
    PromiseState,
    Team,
    Ticket,
    TicketStatus,
)


class PersonField(forms.ModelChoiceField):
    """A staff member, listed by the name people use."""

    widget = QuickSelect

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.username)


def staff_people() -> QuerySet[User]:
    return User.objects.filter(is_active=True, is_staff=True).order_by("first_name", "last_name", "username")


# --- The queue ---------------------------------------------------------------------------------

QUEUE_VIEWS = {
    "mine": "Mine",
    "teams": "My teams",
    "unassigned": "Unassigned",
    "at_risk": "At risk",
    "breached": "Breached",
    "waiting": "Waiting on customer",
    "all": "All I may see",
}


class QueueFilterForm(forms.Form):
    """The queue's filters and search. Every value is checked against a list: nothing free-form reaches SQL."""

    view = forms.ChoiceField(choices=QUEUE_VIEWS.items(), required=False, widget=QuickSelect)
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        error_messages={"max_length": "Search for at most 200 characters: a reference, a subject, a name or an email."},
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *TicketStatus.choices], required=False, widget=QuickSelect)
    promise_state = forms.ChoiceField(
        choices=[("", "Any promise"), *PromiseState.choices], required=False, widget=QuickSelect
    )
    priority = forms.TypedChoiceField(
        choices=[("", "Any priority"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=QuickSelect,
    )
    category = forms.ModelChoiceField(
        Category.objects.all(), required=False, empty_label="Any category", widget=QuickSelect
    )
    team = forms.ModelChoiceField(Team.objects.all(), required=False, empty_label="Any team", widget=QuickSelect)
    assignee = PersonField(staff_people(), required=False, empty_label="Anyone")

    FILTERS = ("status", "promise_state", "priority", "category", "team", "assignee")

    def filter(self, tickets: QuerySet[Ticket], *, user: User, default_view: str) -> QuerySet[Ticket]:
        """The view, then each filter that is valid; an invalid filter is shown as an error and ignored,
        an invalid search finds nothing (rather than everything)."""
        self.is_valid()
        data = self.cleaned_data
        if "q" in self.errors:
            return tickets.none()
        tickets = view_tickets(tickets, data.get("view") or default_view, user=user)
        for field in self.FILTERS:
            if data.get(field) not in (None, ""):
                tickets = tickets.filter(**{field: data[field]})
        if data.get("q"):
            tickets = tickets.search(data["q"])  # type: ignore[attr-defined]
        return tickets


def view_tickets(tickets: QuerySet[Ticket], view: str, *, user: User) -> QuerySet[Ticket]:
    """The queue's named views; all but "all" show open tickets only."""
    if view == "all":
        return tickets
    open_tickets = tickets.filter(status__in=Ticket.OPEN_STATUSES)
    return {
        "mine": lambda: open_tickets.filter(assignee=user),
        "teams": lambda: open_tickets.filter(team__in=user.teams.values("pk")),
        "unassigned": lambda: open_tickets.filter(assignee__isnull=True),
        "at_risk": lambda: open_tickets.filter(promise_state=PromiseState.AT_RISK),
        "breached": lambda: open_tickets.filter(promise_state=PromiseState.BREACHED),
        "waiting": lambda: open_tickets.filter(status=TicketStatus.WAITING),
    }.get(view, lambda: open_tickets)()


# --- A ticket taken down by an agent --------------------------------------------------------------


class NewTicketForm(forms.Form):
    """A request an agent takes down (a call, a walk-in, an email forwarded): the customer is recognised by
    email or recorded, and the ticket starts at level 1 of its category's path, like one from the web form."""

    name = forms.CharField(label="Customer's name", max_length=200, validators=[one_line])
    email = forms.EmailField(label="Their email", max_length=254, help_text="We email them their status link.")
    phone = forms.CharField(label="Phone (optional)", max_length=40, required=False)
    category = forms.ModelChoiceField(
        Category.objects.filter(is_active=True), empty_label="Choose a topic", widget=QuickSelect
    )
    subject = forms.CharField(max_length=200, validators=[one_line])
    body = forms.CharField(
        label="What they need, in their words",
        max_length=10_000,
        validators=[no_control_characters],
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    channel = forms.ChoiceField(
        label="How they reached us", choices=TAKEN_DOWN_CHANNELS, initial=Channel.PHONE, widget=QuickSelect
    )
    priority = forms.TypedChoiceField(
        choices=[("", "The category's"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=QuickSelect,
    )

    def clean_phone(self) -> str:
        return check_phone(self.cleaned_data["phone"])

    def perform(self, user: User) -> Ticket:
        return services.open_ticket(**self.cleaned_data, by=user)  # the fields are the service's arguments
