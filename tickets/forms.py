"""Desk forms: they parse and check what an agent typed; the services decide and write.

Each action form knows how to call its service (``perform``), so the view for every action is the same
few lines and the HTML desk and the API share the rules that live in the services.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from customers.models import check_phone, no_control_characters, one_line
from tickets import services
from tickets.models import (
    TAKEN_DOWN_CHANNELS,
    Category,
    Channel,
    Interaction,
    Priority,
    Promise,
    PromiseState,
    Team,
    Ticket,
    TicketStatus,
)
from tickets.promises import Verdict, aware_from_local, validate_due
from tickets.services.conversation import MAX_CALL_DURATION


class QuickSelect(forms.Select):
    """A <select> whose options are built in Python: Django renders each option through a template, which
    made the staff lists the slowest part of the desk's pages."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        chosen = {str(v) for v in (value if isinstance(value, list | tuple) else [value]) if v not in (None, "")}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((str(v), mark_safe(" selected") if str(v) in chosen else "", label) for v, label in self.choices),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)), options
        )


class QuickInput(forms.TextInput):
    """An <input> built in Python rather than through a template (the public form's hot path)."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "type": self.input_type, "name": name})
        shown = self.format_value(value)
        if shown is not None:
            final["value"] = shown
        return format_html("<input{}>", flatatt(final))


class QuickEmailInput(QuickInput):
    input_type = "email"


class QuickTextarea(forms.Textarea):
    """A <textarea> built in Python rather than through a template."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        return format_html("<textarea{}>\n{}</textarea>", flatatt(final), self.format_value(value) or "")


class PersonField(forms.ModelChoiceField):
    """A staff member, listed by the name people use."""

    widget = QuickSelect

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.username)


def add_service_errors(form: forms.BaseForm, error: forms.ValidationError) -> None:
    """Show a service's refusal on the form: next to the field it names, else at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


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


# --- Ticket actions ----------------------------------------------------------------------------


class ActionForm(forms.Form):
    """An action on one ticket: ``perform`` calls the service that does it."""

    success = "Done."
    button = ""  # the submit button's words, when not the tab's label

    def __init__(self, *args: Any, ticket: Ticket, action: str = "", **kwargs: Any) -> None:
        # Every action's form is on the same page: ids carry the action so labels find their field.
        kwargs.setdefault("auto_id", f"{action or 'action'}_%s")
        super().__init__(*args, **kwargs)
        self.ticket = ticket

    def perform(self, user: User) -> Any:
        raise NotImplementedError


def text_field(label: str, *, rows: int = 4, required: bool = True, max_length: int = 10_000) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=max_length, widget=forms.Textarea(attrs={"rows": rows})
    )


class ReplyForm(ActionForm):
    body = text_field("Reply to the customer")
    success = "Reply sent."

    def perform(self, user: User) -> Interaction:
        return services.reply(self.ticket, by=user, body=self.cleaned_data["body"])


class NoteForm(ActionForm):
    body = text_field("Internal note", rows=3)
    success = "Note added."

    def perform(self, user: User) -> Interaction:
        return services.add_note(self.ticket, by=user, body=self.cleaned_data["body"])


class CallForm(ActionForm):
    minutes = forms.IntegerField(
        label="Length (minutes)", min_value=1, max_value=int(MAX_CALL_DURATION.total_seconds() // 60)
    )
    summary = text_field("What was said", rows=3)
    success = "Call logged."

    def perform(self, user: User) -> Interaction:
        return services.log_call(
            self.ticket,
            by=user,
            summary=self.cleaned_data["summary"],
            duration=timedelta(minutes=self.cleaned_data["minutes"]),
        )


class WallClockField(forms.DateTimeField):
    """A date and time as typed, left naive: ``parse_due`` maps it to an instant with our DST rule.

    Django's own field would refuse a time the clocks skip or repeat with a generic message, before
    we could say which times exist or ask which of the two is meant.
    """

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return timezone.make_naive(value) if timezone.is_aware(value) else value
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise forms.ValidationError("Enter a date and time, e.g. 2027-03-01 14:30.", code="invalid") from None
        return timezone.make_naive(parsed) if timezone.is_aware(parsed) else parsed


def parse_due(local: datetime, fold: str | None, *, now: datetime) -> datetime:
    """A due time typed in the viewer's zone: through the DST rule to an instant, then the promise rules
    (future, within the horizon), with the engine's own words."""
    zone = timezone.get_current_timezone()
    assert isinstance(zone, zoneinfo.ZoneInfo)
    try:
        due_at = aware_from_local(local, zone, fold=int(fold) if fold in ("0", "1") else None)
        validate_due(due_at, now=now)
    except forms.ValidationError as error:
        raise forms.ValidationError(error.messages) from None
    return due_at


class PromiseForm(ActionForm):
    """A due time typed in the agent's own zone; a time the clocks repeat needs "first" or "second"."""

    due_at = WallClockField(
        label="Resolved by", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    fold = forms.TypedChoiceField(
        label="Which one (the clocks go back)",
        choices=[("", "—"), ("0", "The first"), ("1", "The second")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    words = text_field("What you tell the customer", rows=2, max_length=1000)
    reason = text_field("Why sooner than the estimate is realistic", rows=2, required=False, max_length=2000)
    change_reason = text_field(
        "Why the promise changes (the customer reads this)", rows=2, required=False, max_length=2000
    )
    success = "Promise made."
    verdict: Verdict | None = None  # the guard's view of the time typed, shown beside the form

    def clean_due_at(self) -> datetime:
        return parse_due(self.cleaned_data["due_at"], self.data.get("fold"), now=timezone.now())

    def perform(self, user: User) -> Promise:
        data = self.cleaned_data
        return services.make_promise(
            self.ticket,
            due_at=data["due_at"],
            by=user,
            words=data["words"],
            reason=data["reason"],
            change_reason=data["change_reason"],
        )


class TransferForm(ActionForm):
    team = forms.ModelChoiceField(
        Team.objects.all(), required=False, empty_label="(the person's team)", widget=QuickSelect
    )
    assignee = PersonField(staff_people(), required=False, empty_label="(anyone in the team)")
    note = text_field("Hand-off note", rows=3)
    success = "Ticket handed over."

    def perform(self, user: User) -> Interaction:
        data = self.cleaned_data
        return services.transfer(self.ticket, by=user, team=data["team"], assignee=data["assignee"], note=data["note"])


class EscalateForm(ActionForm):
    note = text_field("Hand-off note for the next level", rows=3)
    success = "Escalated."

    def perform(self, user: User) -> Interaction:
        return services.escalate(self.ticket, by=user, note=self.cleaned_data["note"])


class AssignForm(ActionForm):
    assignee = PersonField(staff_people(), required=False, empty_label="Nobody")
    success = "Assignment changed."

    def perform(self, user: User) -> Interaction:
        return services.assign(self.ticket, assignee=self.cleaned_data["assignee"], by=user)


class StatusForm(ActionForm):
    """Moves the transitions table allows from here, except those with their own action (resolve, reopen)."""

    to = forms.ChoiceField(
        label="Move to",
        error_messages={"invalid_choice": "%(value)s is not a move this ticket can make now."},
        widget=QuickSelect,
    )
    note = forms.CharField(label="Note (internal)", required=False, max_length=2000)
    success = "Status changed."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [  # type: ignore[attr-defined]
            (status, TicketStatus(status).label)
            for status in self.ticket.allowed_statuses()
            if status != TicketStatus.RESOLVED and (self.ticket.is_open or status not in Ticket.OPEN_STATUSES)
        ]

    def perform(self, user: User) -> Interaction:
        return services.change_status(self.ticket, to=self.cleaned_data["to"], by=user, note=self.cleaned_data["note"])


class ResolveForm(ActionForm):
    summary = text_field("Resolution summary (the customer reads this)", rows=3)
    success = "Resolved."

    def perform(self, user: User) -> Interaction:
        return services.resolve(self.ticket, by=user, summary=self.cleaned_data["summary"])


class ReopenForm(ActionForm):
    reason = text_field("Why it is reopened", rows=2)
    success = "Reopened."

    def perform(self, user: User) -> Interaction:
        return services.reopen(self.ticket, by=user, reason=self.cleaned_data["reason"])


class DetailsForm(ActionForm):
    """Correct the subject, category or priority; the form starts from the ticket's own."""

    subject = forms.CharField(label="Subject", max_length=200)
    category = forms.ModelChoiceField(Category.objects.filter(is_active=True), widget=QuickSelect)
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, widget=QuickSelect)
    success = "Details changed."
    button = "Save details"

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"subject": ticket.subject, "category": ticket.category_id, "priority": ticket.priority}
        )
        super().__init__(*args, ticket=ticket, **kwargs)
        # A ticket filed under a category since retired keeps it: it stays on the list for this ticket.
        self.fields["category"].queryset = Category.objects.filter(  # type: ignore[attr-defined]
            Q(is_active=True) | Q(pk=ticket.category_id)
        )

    def perform(self, user: User) -> Interaction | None:
        data = self.cleaned_data
        changed = services.change_details(
            self.ticket, by=user, subject=data["subject"], category=data["category"], priority=data["priority"]
        )
        if changed is None:
            self.success = "Nothing to change: the details were already so."
        return changed


ACTIONS: dict[str, type[ActionForm]] = {
    "reply": ReplyForm,
    "note": NoteForm,
    "call": CallForm,
    "promise": PromiseForm,
    "transfer": TransferForm,
    "escalate": EscalateForm,
    "assign": AssignForm,
    "status": StatusForm,
    "resolve": ResolveForm,
    "reopen": ReopenForm,
    "details": DetailsForm,
}

# The ticket page's action tabs, in order (reopening shows on closed tickets instead).
ACTION_LABELS = [
    ("reply", "Reply"),
    ("note", "Note"),
    ("call", "Log call"),
    ("promise", "Promise"),
    ("transfer", "Transfer"),
    ("escalate", "Escalate"),
    ("assign", "Assign"),
    ("status", "Status"),
    ("resolve", "Resolve"),
    ("details", "Details"),
]
