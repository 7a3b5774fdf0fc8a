"""What the ticket endpoints read and write. Output serializers both document and produce the JSON; input
serializers check a request and ``perform`` it through the service the desk's form calls for the same
action, so both leave the same trail in the interaction log."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any

from django.contrib.auth.models import User
from django.urls import reverse
from rest_framework import serializers

from helpdesk.api.fields import StrictSerializer
from helpdesk.text import check_phone, no_control_characters, one_line
from tickets import services
from tickets.api.fields import (
    AwareDateTimeField,
    Brief,
    PersonOut,
    PriorityField,
    RowField,
    Seconds,
    StaffField,
    UtcDateTimeField,
)
from tickets.models import (
    REFERENCE_PREFIX,
    TAKEN_DOWN_CHANNELS,
    Author,
    Category,
    Channel,
    Interaction,
    InteractionKind,
    Promise,
    PromiseOutcome,
    PromiseState,
    Team,
    Ticket,
    TicketStatus,
)
from tickets.services.conversation import MAX_CALL_DURATION
from tickets.services.promised_reply import reply_with_promise

# --- Output -----------------------------------------------------------------------------------------


class NameRef(serializers.Serializer):
    """A row referred to by its id and name (a team, a category, an escalation path)."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class CustomerBrief(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()


class Escalation(serializers.Serializer):
    path = NameRef()
    level = serializers.IntegerField(help_text="1 is where tickets start.")
    level_name = serializers.CharField()


class TicketSerializer(serializers.Serializer):
    """A ticket as lists show it, read through ``tickets.api.listing.listed`` (one query a page), which
    gives it its category's and team's names and its escalation as the object shown here."""

    reference = serializers.CharField(help_text="Public reference, e.g. PD-1042: the id in every ticket URL.")
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=TicketStatus.choices)
    priority = PriorityField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    # The nested objects and the times are read-only fields that write what they read: the shapes stay the
    # serializers above (and the schema says them), without DRF's per-field work for each of a page's rows.
    customer = Brief(CustomerBrief)
    category = Brief(NameRef, source="*", sources={"id": "category_id", "name": "category_name"})
    team = Brief(NameRef, source="*", sources={"id": "team_id", "name": "team_name"})
    assignee = PersonOut(allow_null=True)
    escalation = Brief(Escalation)
    promise_state = serializers.ChoiceField(choices=PromiseState.choices)
    promise_due_at = UtcDateTimeField(allow_null=True, help_text="When the current promise is due.")
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()
    last_activity_at = UtcDateTimeField()
    first_response_at = UtcDateTimeField(allow_null=True)
    resolved_at = UtcDateTimeField(allow_null=True)
    desk_url = serializers.SerializerMethodField(help_text="The ticket's page in the desk.")

    def get_desk_url(self, ticket: Ticket) -> str:
        return self._desk_url.replace(f"{REFERENCE_PREFIX}0", ticket.reference)

    @cached_property
    def _desk_url(self) -> str:
        """The desk's ticket address for a stand-in reference: reversed once for a page of tickets (a list's
        rows share one serializer), not once a row."""
        return reverse("desk:ticket", args=[f"{REFERENCE_PREFIX}0"])


class PromiseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    due_at = serializers.DateTimeField()
    words = serializers.CharField(help_text="What the customer was told, in the words used.")
    made_at = serializers.DateTimeField()
    made_by = PersonOut()
    outcome = serializers.ChoiceField(choices=PromiseOutcome.choices)
    settled_at = serializers.DateTimeField(allow_null=True)
    estimate_seconds = Seconds(source="estimate", allow_null=True, help_text="The guard's estimate when it was made.")
    estimate_sample_size = serializers.IntegerField(allow_null=True)
    overrode_estimate = serializers.BooleanField(help_text="Promised sooner than the estimate.")
    override_reason = serializers.CharField()
    change_reason = serializers.CharField()
    paused_seconds = Seconds(source="paused_for", help_text="Time added while waiting on the customer.")
    working_hours = serializers.CharField(
        help_text="The hours the promise runs in, as the customer was told them ('Monday to Friday, 9 to 17, "
        "Berlin time'); empty: around the clock."
    )


class TicketDetailSerializer(TicketSerializer):
    """A ticket on its own: also where it can move next, and the promise it is working to (``pending_promise``,
    which ``tickets.api.tickets.ticket_detail`` reads)."""

    allowed_statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=TicketStatus.choices), help_text="Where its status can move next."
    )
    promise = PromiseSerializer(
        source="pending_promise", allow_null=True, help_text="The current (pending) promise, if any."
    )


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="Its download, through the API (with your token).")

    def get_url(self, attachment: Any) -> str:
        return reverse("api:ticket-file", args=[self.context["reference"], attachment.pk])


class InteractionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=InteractionKind.choices)
    author_kind = serializers.ChoiceField(choices=Author.choices)
    author = PersonOut(allow_null=True)
    customer_name = serializers.CharField(help_text="The customer's name at that moment.")
    body = serializers.CharField()
    is_public = serializers.BooleanField(help_text="Whether the customer sees it on their status page.")
    data = serializers.DictField(help_text="Structured details: from/to status, call length, ...")
    created_at = serializers.DateTimeField()
    attachments = AttachmentSerializer(many=True)


# --- Input: opening and correcting a ticket ------------------------------------------------------------

WHERE = {
    "status": "move it with POST .../status/, .../resolve/ or .../reopen/",
    "assignee": "assign it with POST .../assign/",
    "team": "hand it over with POST .../transfer/",
    "escalation": "escalate it with POST .../escalate/",
    "promise_due_at": "promise with POST .../promise/",
    "promise_state": "the promise engine sets it",
    "customer": "a ticket stays with the customer who asked",
}


def customer_text(max_length: int, *, single_line: bool = False, **kwargs: Any) -> serializers.CharField:
    """As the web form's ``CustomerText``: names and subjects one line, all text free of control characters."""
    return serializers.CharField(
        max_length=max_length, validators=[one_line if single_line else no_control_characters], **kwargs
    )


class TicketCreateSerializer(StrictSerializer):
    """A ticket taken down for a customer (a phone call, a walk-in): the customer is found by email or
    created, and the ticket starts at level 1 of its category's path like one from the web form."""

    name = customer_text(200, single_line=True, help_text="The customer's name.")
    email = serializers.EmailField(max_length=254, help_text="Recognises a returning customer (any case).")
    phone = customer_text(40, required=False, default="", allow_blank=True)
    subject = customer_text(200, single_line=True)
    body = customer_text(10_000, help_text="What the customer needs, in their words.")
    category = RowField("active category", Category.objects.filter(is_active=True))
    channel = serializers.ChoiceField(choices=TAKEN_DOWN_CHANNELS, default=Channel.PHONE)
    priority = PriorityField(required=False, help_text="Default: the category's.")

    def validate_phone(self, phone: str) -> str:
        return check_phone(phone)

    def perform(self, user: User) -> Ticket:
        return services.open_ticket(**self.validated_data, by=user)  # the fields are the service's arguments


class TicketUpdateSerializer(StrictSerializer):
    """The details an agent may change directly; the rest moves through the actions."""

    elsewhere = WHERE
    subject = serializers.CharField(max_length=200, required=False)
    category = RowField("category", Category.objects.all(), required=False)
    priority = PriorityField(required=False)

    def perform(self, ticket: Ticket, user: User) -> Interaction | None:
        data = self.validated_data
        return services.change_details(
            ticket, by=user, subject=data.get("subject"), category=data.get("category"), priority=data.get("priority")
        )


# --- Input: the actions ------------------------------------------------------------------------------


class ActionSerializer(StrictSerializer):
    """One action on a ticket; ``perform`` calls the service (the same one the desk's form calls)."""

    elsewhere = WHERE

    def perform(self, ticket: Ticket, user: User) -> Any:
        raise NotImplementedError


def text(help_text: str = "", max_length: int = 10_000) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, help_text=help_text)


class InteractionCreateSerializer(ActionSerializer):
    """A reply (emailed to the customer), an internal note, or a phone call (with its length). A reply may record
    as the promise a time it commits to in words: ``promise`` names them (a ``phrase`` from ``reply-check/``)."""

    KINDS = {"reply": "Reply to the customer", "note": "Internal note", "call": "Phone call"}
    kind = serializers.ChoiceField(choices=list(KINDS.items()))
    body = text("The reply, the note, or what was said on the call.")
    minutes = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=int(MAX_CALL_DURATION.total_seconds() // 60),
        help_text="How long the call lasted (calls only).",
    )
    promise = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Replies only: the words of the reply that promise a time (a `phrase` from `reply-check/`). The "
        "reply is sent and that time, read as it is sent, made the promise, in one step: if the promise is "
        "refused (409 sooner than the estimate without a `reason`, 400 otherwise), the reply is not sent either.",
    )
    reason = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=2000,
        help_text="With `promise`: why sooner than the estimate is realistic, needed when it is.",
    )  # fmt: skip
    change_reason = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=2000,
        help_text="With `promise`: why the promise changes (the customer reads it), needed when one is pending.",
    )  # fmt: skip

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if data["kind"] == "call" and "minutes" not in data:
            raise serializers.ValidationError({"minutes": "Say how many minutes the call lasted."})
        if data["kind"] != "call" and "minutes" in data:
            raise serializers.ValidationError({"minutes": "Only calls have a length: leave minutes out."})
        if data["kind"] != "reply" and "promise" in data:
            raise serializers.ValidationError({"promise": "Only a reply can record a promise: leave promise out."})
        for name in ("reason", "change_reason"):
            if data[name] and "promise" not in data:
                raise serializers.ValidationError({name: f"{name} goes with promise: name the words that promise."})
        return data

    def perform(self, ticket: Ticket, user: User) -> Interaction:
        data = self.validated_data
        if data["kind"] == "reply" and "promise" in data:
            interaction, _ = reply_with_promise(
                ticket,
                by=user,
                body=data["body"],
                phrase=data["promise"],
                reason=data["reason"],
                change_reason=data["change_reason"],
            )
            return interaction
        if data["kind"] == "reply":
            return services.reply(ticket, by=user, body=data["body"])
        if data["kind"] == "note":
            return services.add_note(ticket, by=user, body=data["body"])
        return services.log_call(ticket, by=user, summary=data["body"], duration=timedelta(minutes=data["minutes"]))


class PromiseCreateSerializer(ActionSerializer):
    due_at = AwareDateTimeField(help_text="When it will be resolved, with its offset (e.g. ...+01:00 or ...Z).")
    words = text("What the customer is told, in the words used.", 1000)
    reason = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=2000,
        help_text="Why sooner than the estimate is realistic: needed when it is (else 409 with the verdict).",
    )  # fmt: skip
    change_reason = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=2000,
        help_text="Why the promise changes (the customer reads it): needed when one is pending.",
    )  # fmt: skip

    def perform(self, ticket: Ticket, user: User) -> Promise:
        data = self.validated_data
        return services.make_promise(
            ticket,
            due_at=data["due_at"],
            by=user,
            words=data["words"],
            reason=data["reason"],
            change_reason=data["change_reason"],
        )


class AssignSerializer(ActionSerializer):
    assignee = StaffField(allow_null=True, help_text="A member of the ticket's team, or null for nobody.")

    def perform(self, ticket: Ticket, user: User) -> Interaction:
        return services.assign(ticket, assignee=self.validated_data["assignee"], by=user)


class TransferSerializer(ActionSerializer):
    team = RowField("team", Team.objects.all(), required=False, allow_null=True, help_text="The team that takes it.")
    assignee = StaffField(required=False, allow_null=True, help_text="The person who takes it (their team's).")
    note = text("The hand-off note: what you tried, what the customer expects, what is next.")

    def perform(self, ticket: Ticket, user: User) -> Interaction:
        data = self.validated_data
        return services.transfer(
            ticket, by=user, team=data.get("team"), assignee=data.get("assignee"), note=data["note"]
        )


class EscalateSerializer(ActionSerializer):
    note = text("The hand-off note the next level reads first.")

    def perform(self, ticket: Ticket, user: User) -> Interaction:
        return services.escalate(ticket, by=user, note=self.validated_data["note"])


class ResolveSerializer(ActionSerializer):
    summary = text("How it was resolved: the customer reads this.")

    def perform(self, ticket: Ticket, user: User) -> Interaction:
        return services.resolve(ticket, by=user, summary=self.validated_data["summary"])


class ReopenSerializer(ActionSerializer):
    reason = text("Why it is reopened.")

    def perform(self, ticket: Ticket, user: User) -> Interaction:
        return services.reopen(ticket, by=user, reason=self.validated_data["reason"])


class StatusSerializer(ActionSerializer):
    """Moves between open, waiting on customer and closed (resolving and reopening have their own actions)."""

    to = serializers.ChoiceField(choices=TicketStatus.choices)
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)

    def perform(self, ticket: Ticket, user: User) -> Interaction:
        return services.change_status(ticket, to=self.validated_data["to"], by=user, note=self.validated_data["note"])


class SenderDetailsSerializer(ActionSerializer):
    """Make the customer's record say the name and phone the sender gave with this request (the opening
    interaction's ``data.sender``); the log says what changed. Takes no fields."""

    def perform(self, ticket: Ticket, user: User) -> Interaction:
        return services.use_sender_details(ticket, by=user)


class NewLinkSerializer(ActionSerializer):
    """Replace the customer's status link and email them the new one; the old link then answers 410."""

    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)

    def perform(self, ticket: Ticket, user: User) -> Interaction:
        return services.replace_status_link(ticket, by=user, note=self.validated_data["note"])


ACTIONS: dict[str, type[ActionSerializer]] = {
    "assign": AssignSerializer,
    "transfer": TransferSerializer,
    "escalate": EscalateSerializer,
    "resolve": ResolveSerializer,
    "reopen": ReopenSerializer,
    "status": StatusSerializer,
    "use-sender-details": SenderDetailsSerializer,
    "new-link": NewLinkSerializer,
}
