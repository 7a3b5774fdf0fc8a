"""The actions on a ticket page: one form per action, each of which knows how to call its service (``perform``),
so the view for every action is the same few lines, and the desk and the API share the rules that live in the
services. ``ACTIONS`` names them (the desk's URLs and the permission tests read it).
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from helpdesk.forms import QuickSelect
from tickets import services
from tickets.forms import PersonField, staff_people
from tickets.models import Category, Interaction, Priority, Promise, Team, Ticket, TicketStatus
from tickets.promise_rules import Verdict, aware_from_local, validate_due
from tickets.services.conversation import MAX_CALL_DURATION
from tickets.services.promised_reply import reply_with_promise

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
    """A reply; with ``promise`` (the words of a time it commits to, which the desk's notice offers to record),
    the reply is sent and that time promised in one step."""

    body = text_field("Reply to the customer")
    promise = forms.CharField(label="The words that promise", required=False, max_length=200)
    reason = text_field("Why sooner than the estimate is realistic", rows=2, required=False, max_length=2000)
    change_reason = text_field(
        "Why the promise changes (the customer reads this)", rows=2, required=False, max_length=2000
    )
    success = "Reply sent."

    def perform(self, user: User) -> Interaction:
        data = self.cleaned_data
        if not data["promise"]:
            return services.reply(self.ticket, by=user, body=data["body"])
        interaction, _ = reply_with_promise(
            self.ticket,
            by=user,
            body=data["body"],
            phrase=data["promise"],
            reason=data["reason"],
            change_reason=data["change_reason"],
        )
        self.success = f"Reply sent, and “{data['promise']}” recorded as the promise."
        return interaction


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


class SenderDetailsForm(ActionForm):
    """Make the customer's record say what the sender gave with this request (shown on the customer card)."""

    success = "The customer's record now says what the sender gave."

    def perform(self, user: User) -> Interaction:
        return services.use_sender_details(self.ticket, by=user)


class NewLinkForm(ActionForm):
    """Replace the customer's status link (it leaked, was forwarded) and email them the new one."""

    note = forms.CharField(label="Why (internal)", required=False, max_length=2000)
    success = "A new status link was emailed to the customer; the old one no longer opens the request."
    button = "Replace and email the new link"

    def perform(self, user: User) -> Interaction:
        return services.replace_status_link(self.ticket, by=user, note=self.cleaned_data["note"])


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
    "use-sender-details": SenderDetailsForm,
    "new-link": NewLinkForm,
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
