"""The customers' endpoints (``/api/v1/customers/...``, for staff) and the two public ones: the request form
(``requests/``) and the status page (``status/<token>/``), for a customer-facing site or app.

Staff see every customer (``Customer.objects.visible_to``) but only the tickets ``Ticket.objects.visible_to``
lets them see. The public endpoints call the very functions the customer's pages call (``customers.public``:
``submit_request``, ``open_link``, ``status_facts``), so the form's rules, the rate limits and what a
status link shows are the same whichever door a customer uses.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Max
from django.http import Http404
from django.urls import URLPattern, path, reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from customers.forms import RequestForm
from customers.models import Customer, CustomerTier
from customers.public import Ignored, TooMany, open_link, status_facts, submit_request
from customers.services import create_customer, update_customer
from helpdesk.ratelimit import client_ip
from tickets.api.access import Public
from tickets.api.base import ApiView
from tickets.api.errors import GENERAL, TooManyRequests
from tickets.api.fields import QueryParameters, StrictSerializer
from tickets.api.pagination import CursorPages, NumberedPages
from tickets.api.serializers import TicketSerializer
from tickets.api.tickets import ticket_page
from tickets.attachments import ALLOWED
from tickets.customer_emails import expectation, status_url
from tickets.models import Author, Interaction, InteractionKind, Promise, PromiseOutcome, Ticket, TicketStatus

# --- Staff: the customer directory ---------------------------------------------------------------


def visible_customer(user: User, pk: int) -> Customer:
    customer = Customer.objects.visible_to(user).filter(pk=pk).first()
    if customer is None:
        raise NotFound(f"There is no customer {pk}.")
    return customer


def _length(name: str) -> int | None:
    """A text field's limit, from the model (the service checks it; the schema tells it)."""
    return getattr(Customer._meta.get_field(name), "max_length", None)


class CustomerSerializer(StrictSerializer):
    """A customer as staff see them. POST and PATCH take the same fields, less the read-only ones; the
    rules (one customer per email in any case, a real time zone, a phone as people write one) are
    ``customers.services``'s."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=_length("name"), allow_blank=True, help_text="Full name.")
    preferred_name = serializers.CharField(
        max_length=_length("preferred_name"), required=False, allow_blank=True,
        help_text="What they like to be called; agents greet them with this.",
    )  # fmt: skip
    email = serializers.CharField(
        max_length=_length("email"), allow_blank=True,
        help_text="Recognises them when they write (any case); stored lower-cased; no two customers share one.",
    )  # fmt: skip
    phone = serializers.CharField(
        max_length=_length("phone"), required=False, allow_blank=True, help_text="e.g. +44 20 7946 0000."
    )
    organisation = serializers.CharField(max_length=_length("organisation"), required=False, allow_blank=True)
    tier = serializers.ChoiceField(choices=CustomerTier.choices, required=False, help_text="Default: standard.")
    time_zone = serializers.CharField(
        max_length=_length("time_zone"), required=False, allow_blank=True,
        help_text="A name such as Europe/Paris: their emails and status page show times in it. Blank: the site's.",
    )  # fmt: skip
    notes = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=10_000,
        help_text="Internal: never shown to the customer.",
    )  # fmt: skip
    ticket_count = serializers.SerializerMethodField(help_text="How many of their tickets you may see.")
    tickets_url = serializers.SerializerMethodField(help_text="Their tickets that you may see, newest first.")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_ticket_count(self, customer: Customer) -> int:
        return int(self.context["ticket_counts"].get(customer.pk, 0))

    def get_tickets_url(self, customer: Customer) -> str:
        return reverse("api:customer-tickets", args=[customer.pk])


def shown(user: User, customers: Sequence[Customer]) -> list[dict[str, Any]]:
    """The customers as JSON, each with how many of their tickets ``user`` may see: one grouped count over
    these customers' tickets (read off the ticket's customer index), however deep the page."""
    counts = dict(
        Ticket.objects.visible_to(user)
        .filter(customer__in=[customer.pk for customer in customers])
        .order_by()
        .values_list("customer")
        .annotate(n=Count("id"))
    )
    return CustomerSerializer(customers, many=True, context={"ticket_counts": counts}).data


class CustomerFilters(QueryParameters):
    q = serializers.CharField(required=False, max_length=200, help_text="Words of the name or email (any case).")


class CustomerList(ApiView):
    """The customer directory, by name, in numbered pages; POST adds a customer."""

    pagination_class = NumberedPages
    query_parameters = CustomerFilters

    @extend_schema(parameters=[CustomerFilters], responses=CustomerSerializer(many=True))
    def get(self, request: Request) -> Response:
        customers = Customer.objects.visible_to(request.user).search(self.query.validated_data.get("q", ""))
        page = self.paginate_queryset(customers.order_by("name", "id"))
        return self.get_paginated_response(shown(request.user, page))

    @extend_schema(request=CustomerSerializer, responses={201: CustomerSerializer})
    def post(self, request: Request) -> Response:
        customer = create_customer(**self.valid(CustomerSerializer, request.data).validated_data)
        return Response(shown(request.user, [customer])[0], status=status.HTTP_201_CREATED)


class CustomerDetail(ApiView):
    """One customer; PATCH corrects their details (only the fields sent change)."""

    @extend_schema(responses=CustomerSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(shown(request.user, [visible_customer(request.user, pk)])[0])

    @extend_schema(request=CustomerSerializer(partial=True), responses=CustomerSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        customer = visible_customer(request.user, pk)
        changes = self.valid(CustomerSerializer, request.data, partial=True).validated_data
        update_customer(customer, by=request.user, **changes)
        return Response(shown(request.user, [customer])[0])


class CustomerTickets(ApiView):
    """The customer's tickets that you may see, newest first (another team's are not listed)."""

    pagination_class = CursorPages  # tickets page by cursor, wherever they are listed

    @extend_schema(responses=TicketSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        customer = visible_customer(request.user, pk)
        return ticket_page(self, Ticket.objects.visible_to(request.user).filter(customer=customer), "-created_at")


# --- Public: the request form ----------------------------------------------------------------------


def _form_text(name: str, **kwargs: Any) -> serializers.CharField:
    """A field of the request form, described from the form itself (which is what checks it)."""
    field = RequestForm.base_fields[name]
    help_text = " ".join(str(part) for part in (field.label, field.help_text) if part)
    return serializers.CharField(
        max_length=getattr(field, "max_length", None), required=field.required, help_text=help_text, **kwargs
    )


class RequestInput(StrictSerializer):
    """The web form's fields, for the schema and to refuse unknown names. ``customers.forms.RequestForm``
    checks the values, so the API and the page say the same thing about the same input."""

    name = _form_text("name")
    email = _form_text("email")
    phone = _form_text("phone")
    category = serializers.IntegerField(help_text="The id of an active category: GET /api/v1/requests/ lists them.")
    subject = _form_text("subject")
    description = _form_text("description")
    submission_key = serializers.UUIDField(
        required=False,
        help_text="Makes sending twice harmless: the same key (with the same email) answers with the request it "
        "opened the first time. Generate one per request; left out, every call opens a new request.",
    )
    website = serializers.CharField(
        required=False, allow_blank=True,
        help_text="Leave out or empty. Spam filter: a request with anything here is answered as if received, "
        "and dropped.",
    )  # fmt: skip


class RequestUpload(RequestInput):
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, help_text=str(RequestForm.base_fields["attachments"].help_text)
    )


def form_input(data: Any) -> dict[str, Any]:
    """The request's fields as the form reads them: no unknown name, one value each, a submission key."""
    if not isinstance(data, Mapping):
        raise ValidationError({GENERAL: ["Send the request's fields as a JSON object (or as form data)."]})
    known = RequestUpload()
    fields: dict[str, list[str]] = {name: [known._refusal(name)] for name in sorted(set(data) - set(known.fields))}
    values = {name: value for name, value in data.items() if name != "attachments"}
    for name, value in values.items():
        if isinstance(value, dict | list):
            fields[name] = ["Give one value (text or a number), not a list or an object."]
    if "attachments" in data and not hasattr(data, "getlist"):
        fields["attachments"] = ["Send files as multipart/form-data, one part named attachments per file."]
    if fields:
        raise ValidationError(fields)
    return {**values, "submission_key": values.get("submission_key") or str(uuid.uuid4())}


class Receipt(serializers.Serializer):
    reference = serializers.CharField(help_text="e.g. PD-1042: the customer quotes it when they write.")
    token = serializers.CharField(help_text="The status link's secret: GET /api/v1/status/{token}/ reads it.")
    status_url = serializers.URLField(help_text="The customer's private status page (emailed to them too).")
    expectation = serializers.CharField(help_text="How long such requests usually take, in words (e.g. 4 h).")


def receipt(ticket: Ticket) -> dict[str, str]:
    return {
        "reference": ticket.reference,
        "token": ticket.token,
        "status_url": status_url(ticket),
        "expectation": expectation(ticket),
    }


def invalid(form: RequestForm) -> DjangoValidationError:
    """The form's faults, in the API's error format (the handler maps the form's general faults too)."""
    return DjangoValidationError(form.errors.as_data())


def decoy(form: RequestForm) -> dict[str, str]:
    """What a bot that filled the honeypot is told: faulty input is refused as anyone's would be; otherwise a
    receipt like a real one, for a request that was never stored (its link opens the same 404 as any wrong
    link). Telling it "spam" would only teach it to leave the field empty. Its reference follows the latest
    real one, as a real receipt's would. (Bots count against the address's limit like anyone: see
    ``submit_request``.)"""
    if not form.is_valid():
        raise invalid(form)
    category = form.cleaned_data["category"]
    latest = Ticket.objects.aggregate(latest=Max("pk"))["latest"] or 0
    never_saved = Ticket(pk=latest + 1 + secrets.randbelow(3), category=category, priority=category.default_priority)
    return receipt(never_saved)


class Topic(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(help_text="Shown to customers under the topic.")


class AttachmentRules(serializers.Serializer):
    max_files = serializers.IntegerField()
    max_megabytes = serializers.IntegerField(help_text="Per file.")
    extensions = serializers.ListField(child=serializers.CharField(), help_text="Checked by content too.")


class FormOffer(serializers.Serializer):
    categories = Topic(many=True, help_text="The topics the form offers (active categories), by name.")
    attachments = AttachmentRules()


class RequestSubmit(Public, ApiView):
    """A customer's request, as the web form sends it (JSON, or multipart/form-data with attachments);
    GET says what the form offers, for a client that draws its own.

    The same checks, limits and messages as the form at /: the page and this endpoint call one function
    (``customers.public.submit_request``). Over a limit (per address, per email, each hourly) the answer is
    429 with ``Retry-After``.
    """

    @extend_schema(responses=FormOffer, summary="What the request form offers: its topics and file rules")
    def get(self, request: Request) -> Response:
        topics = RequestForm.base_fields["category"].queryset.order_by("name")  # type: ignore[attr-defined]
        return Response(
            {
                "categories": [{"id": c.pk, "name": c.name, "description": c.description} for c in topics],
                "attachments": {
                    "max_files": settings.ATTACHMENT_MAX_FILES,
                    "max_megabytes": settings.ATTACHMENT_MAX_MB,
                    "extensions": sorted(ALLOWED),
                },
            }
        )

    @extend_schema(
        request={"application/json": RequestInput, "multipart/form-data": RequestUpload},
        responses={201: Receipt},
        summary="Send a request (as the web form does)",
    )
    def post(self, request: Request) -> Response:
        form = RequestForm(form_input(request.data), request.FILES)
        try:
            ticket = submit_request(form, ip=client_ip(request))
        except Ignored:
            return Response(decoy(form), status=status.HTTP_201_CREATED)
        except TooMany as refusal:
            raise TooManyRequests(refusal.message, retry_after=refusal.retry_after) from None
        if ticket is None:
            raise invalid(form)
        return Response(receipt(ticket), status=status.HTTP_201_CREATED)


# --- Public: the status page -----------------------------------------------------------------------


class StatusPromise(serializers.Serializer):
    words = serializers.CharField(help_text="What we promised, in the words we used.")
    due_at = serializers.DateTimeField(help_text="When it is due (it moves on while paused).")
    state = serializers.ChoiceField(
        choices=[("pending", "Pending"), ("paused", "Paused"), ("kept", "Kept"), ("broken", "Broken")],
        help_text="paused: the clock waits for the customer's answer.",
    )
    change_reason = serializers.CharField(help_text="Why we changed it, when we did (else empty).")


class StatusFile(serializers.Serializer):
    name = serializers.CharField()
    size = serializers.IntegerField(help_text="In bytes.")
    url = serializers.URLField(help_text="A download, for whoever holds the link.")


class StatusEntry(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[(kind, label) for kind, label in InteractionKind.choices if kind != InteractionKind.NOTE],
        help_text="Any kind but an internal note (notes are never public: a database constraint says so).",
    )
    kind_label = serializers.CharField()
    author_kind = serializers.ChoiceField(choices=Author.choices)
    who = serializers.CharField(
        help_text="The customer's name as they gave it, the agent's first name, or Promise Desk (the system)."
    )
    body = serializers.CharField()
    rating = serializers.IntegerField(allow_null=True, help_text="With a rating: 1 (poor) to 5 (excellent).")
    created_at = serializers.DateTimeField()
    attachments = StatusFile(many=True)


class RequestStatus(serializers.Serializer):
    """What the customer's status page shows, and nothing more (no internal note, no staff-only detail)."""

    reference = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=TicketStatus.choices)
    status_label = serializers.CharField()
    team = serializers.CharField(help_text="The team looking after it.")
    looked_after_by = serializers.CharField(allow_null=True, help_text="The agent's first name, if assigned.")
    promise = StatusPromise(allow_null=True, help_text="Our current promise, if we made one.")
    timeline = StatusEntry(many=True, help_text="What has happened, oldest first.")
    rated = serializers.BooleanField()
    can_reply = serializers.BooleanField(help_text="The request is open: the customer can write to us.")
    can_rate = serializers.BooleanField(help_text="Resolved and not yet rated.")
    can_reopen = serializers.BooleanField(help_text="Resolved: the customer can say it is still wrong.")


def first_name(user: User) -> str:
    """A staff member as the customer knows them (the status page and the emails sign this way)."""
    return user.first_name or user.username


def promise_state(ticket: Ticket, promise: Promise) -> str:
    if promise.outcome == PromiseOutcome.PENDING:
        return "paused" if ticket.paused_at else "pending"
    return "kept" if promise.outcome == PromiseOutcome.KEPT else "broken"


def entry_json(ticket: Ticket, entry: Interaction) -> dict[str, Any]:
    if entry.author_kind == Author.CUSTOMER:
        who = entry.customer_name
    else:
        who = first_name(entry.author) if entry.author else "Promise Desk"
    files = [
        {"name": file.original_name, "size": file.size,
         "url": settings.SITE_URL + reverse("customers:attachment", args=[ticket.token, file.pk])}
        for file in entry.attachments.all()
    ]  # fmt: skip
    return {
        "kind": entry.kind,
        "kind_label": entry.get_kind_display(),
        "author_kind": entry.author_kind,
        "who": who,
        "body": entry.body,
        "rating": entry.data.get("rating") if entry.kind == InteractionKind.RATING else None,
        "created_at": entry.created_at,
        "attachments": files,
    }


def status_json(ticket: Ticket) -> dict[str, Any]:
    """The status page's facts (``customers.public.status_facts``) as data: picked field by field, so an
    internal detail (a rating's agent, a note) can't slip out by being added to a model."""
    facts = status_facts(ticket)
    promise, rated = facts["promise"], facts["rated"]
    resolved = ticket.status == TicketStatus.RESOLVED
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "status_label": ticket.get_status_display(),
        "team": ticket.team.name,
        "looked_after_by": first_name(ticket.assignee) if ticket.assignee else None,
        "promise": None
        if promise is None
        else {
            "words": promise.words,
            "due_at": promise.due_at,
            "state": promise_state(ticket, promise),
            "change_reason": promise.change_reason,
        },
        "timeline": [entry_json(ticket, entry) for entry in facts["timeline"]],
        "rated": rated,
        "can_reply": ticket.is_open,
        "can_rate": resolved and not rated,
        "can_reopen": resolved,
    }


class StatusView(Public, ApiView):
    """The customer's status page as data, for whoever holds the link's token.

    The page's guards (``customers.public.open_link``): a per-address limit (429 with ``Retry-After``), and
    the same 404 for a wrong token, an expired link and a missing request. Never cached along the way.
    """

    @extend_schema(
        responses=RequestStatus,
        summary="Read a request's status (as its status page shows it)",
        parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH, description="The status link's secret.")],
    )
    def get(self, request: Request, token: str) -> Response:
        try:
            ticket = open_link(token, ip=client_ip(request))
        except TooMany as refusal:
            raise TooManyRequests(refusal.message, retry_after=refusal.retry_after) from None
        except Http404:
            raise NotFound("There is no request at this link, or the link has expired.") from None
        response = Response(RequestStatus(status_json(ticket)).data)
        response["Cache-Control"] = "private, no-store"
        return response


urlpatterns: list[URLPattern] = [
    path("customers/", CustomerList.as_view(), name="customers"),
    path("customers/<int:pk>/", CustomerDetail.as_view(), name="customer"),
    path("customers/<int:pk>/tickets/", CustomerTickets.as_view(), name="customer-tickets"),
    path("requests/", RequestSubmit.as_view(), name="requests"),
    path("status/<str:token>/", StatusView.as_view(), name="status"),
]
