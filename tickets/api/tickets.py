"""Tickets, their interactions, their promise and the actions on them (``/api/v1/tickets/...``).

Every ticket is looked up through ``Ticket.objects.visible_to``: one an agent may not see is a 404, the
same answer as a reference that does not exist. Every write goes through the service the desk uses.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import FileResponse
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from customers.models import Customer
from helpdesk.api.base import ApiView
from helpdesk.api.fields import QueryParameters
from helpdesk.api.pagination import CursorPages, NumberedPages
from helpdesk.input import whole_number
from tickets.api.commitments import ReplyCheckResult, ReplyCheckSerializer
from tickets.api.fields import (
    AwareDateTimeField,
    PriorityField,
    RowField,
    VerdictSerializer,
    verdict_json,
)
from tickets.api.listing import ORDERINGS, filter_values, filtered, listed, ordered
from tickets.api.serializers import (
    ACTIONS,
    InteractionCreateSerializer,
    InteractionSerializer,
    PromiseCreateSerializer,
    PromiseSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
)
from tickets.attachments import download
from tickets.commitments import check_reply
from tickets.models import Category, PromiseOutcome, PromiseState, Team, Ticket, TicketStatus

# --- Finding tickets ---------------------------------------------------------------------------------


def visible(user: User, reference: str) -> Ticket:
    """The ticket with this reference if ``user`` may see it; otherwise a 404 that says no more."""
    ticket = Ticket.objects.visible_to(user).by_reference(reference).first()
    if ticket is None:
        raise NotFound(f"There is no ticket {reference} that you can see.")
    return ticket


def paged_tickets(view: ApiView, tickets: QuerySet[Ticket], ordering: str) -> Response:
    """One cursor page of ``tickets`` in a named ordering (``ORDERINGS``), as ``TicketSerializer`` shows them."""
    pages = view.paginator
    assert isinstance(pages, CursorPages), "ticket lists page by cursor"
    pages.use(ordering, ORDERINGS[ordering])
    page = pages.paginate_queryset(listed(ordered(tickets, ordering)), view.request, view=view)
    return pages.get_paginated_response(TicketSerializer(page, many=True).data)


def ticket_detail(ticket: Ticket) -> dict[str, Any]:
    """One ticket as ``TicketDetailSerializer`` shows it, read afresh (an action may just have changed it)."""
    fresh = listed(Ticket.objects.filter(pk=ticket.pk)).get()
    pending = fresh.promises.filter(outcome=PromiseOutcome.PENDING).select_related("made_by")
    fresh.pending_promise = pending.first()  # type: ignore[attr-defined]
    return TicketDetailSerializer(fresh).data


MAX_USER_ID = 2**31 - 1  # a user's id is a 32-bit integer column


class TicketFilters(QueryParameters):
    status = serializers.ChoiceField(choices=TicketStatus.choices, required=False)
    promise_state = serializers.ChoiceField(choices=PromiseState.choices, required=False)
    team = RowField("team", Team.objects.all(), required=False)
    assignee = serializers.CharField(
        required=False, help_text="A staff member's id, `me`, or `none` for unassigned tickets."
    )
    category = RowField("category", Category.objects.all(), required=False)
    priority = PriorityField(required=False)
    due_before = AwareDateTimeField(required=False, help_text="Promised before this time.")
    due_after = AwareDateTimeField(required=False, help_text="Promised at or after this time.")
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text="A reference (PD-1042), or words of the subject, customer name or email.",
    )
    ordering = serializers.ChoiceField(
        choices=[name for name in ORDERINGS if name],
        required=False,
        help_text="Default: the queue's order (open tickets first, the nearest promise first, then the most "
        "urgent and the oldest). Tickets without a promise count as due last.",
    )

    def validate_assignee(self, value: str) -> str:
        if value not in ("me", "none") and whole_number(value, at_most=MAX_USER_ID) is None:
            raise serializers.ValidationError("Give a staff member's id, `me`, or `none`.")
        return value

    def apply(self, tickets: QuerySet[Ticket], user: User) -> QuerySet[Ticket]:
        tickets = filtered(tickets, filter_values(self.validated_data, user))
        if self.searched:
            tickets = tickets.search(self.validated_data["q"])  # type: ignore[attr-defined]
        return tickets

    @property
    def searched(self) -> bool:
        return bool(self.validated_data.get("q", "").strip())


class TicketList(ApiView):
    """Tickets you may see, filtered and in a chosen order, by cursor pages; or open one for a customer."""

    pagination_class = CursorPages
    query_parameters = TicketFilters

    @extend_schema(parameters=[TicketFilters], responses=TicketSerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = self.query
        tickets = filters.apply(Ticket.objects.visible_to(request.user), request.user)
        return paged_tickets(self, tickets, filters.validated_data.get("ordering", ""))

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketDetailSerializer})
    def post(self, request: Request) -> Response:
        ticket = self.valid(TicketCreateSerializer, request.data).perform(request.user)
        return Response(ticket_detail(ticket), status=status.HTTP_201_CREATED)


class TicketDetail(ApiView):
    """One ticket; PATCH corrects its subject, category or priority (the rest moves through the actions)."""

    @extend_schema(responses=TicketDetailSerializer)
    def get(self, request: Request, reference: str) -> Response:
        return Response(ticket_detail(visible(request.user, reference)))

    @extend_schema(request=TicketUpdateSerializer, responses=TicketDetailSerializer)
    def patch(self, request: Request, reference: str) -> Response:
        ticket = visible(request.user, reference)
        self.valid(TicketUpdateSerializer, request.data).perform(ticket, request.user)
        return Response(ticket_detail(ticket))


class TicketInteractions(ApiView):
    """The ticket's log, oldest first (internal entries included: this is the staff's view); POST adds a
    reply (emailed to the customer), an internal note or a phone call. A reply with ``promise`` also makes the
    promise its words commit to, or, refused, is not sent: 409 with the verdict when sooner than the estimate."""

    pagination_class = NumberedPages
    error_codes = {"POST": ("409",)}  # a reply's promise sooner than the estimate without a reason

    @extend_schema(responses=InteractionSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        ticket = visible(request.user, reference)
        log = ticket.interactions.select_related("author").prefetch_related("attachments").order_by("created_at", "id")
        page = self.paginate_queryset(log)
        context = {"reference": ticket.reference}
        return self.get_paginated_response(InteractionSerializer(page, many=True, context=context).data)

    @extend_schema(request=InteractionCreateSerializer, responses={201: InteractionSerializer})
    def post(self, request: Request, reference: str) -> Response:
        ticket = visible(request.user, reference)
        interaction = self.valid(InteractionCreateSerializer, request.data).perform(ticket, request.user)
        context = {"reference": ticket.reference}
        return Response(InteractionSerializer(interaction, context=context).data, status=status.HTTP_201_CREATED)


class TicketReplyCheck(ApiView):
    """What a reply would promise, before it is sent: each time it commits to in words ("by 3pm tomorrow",
    "within two hours"), read in the customer's time zone, with the overpromise guard's verdict: what the desk
    shows under its reply box. Nothing is sent or stored; to record one, send the reply to ``interactions/``
    with its ``phrase`` as ``promise``."""

    @extend_schema(request=ReplyCheckSerializer, responses=ReplyCheckResult)
    def post(self, request: Request, reference: str) -> Response:
        ticket = visible(request.user, reference)
        body = self.valid(ReplyCheckSerializer, request.data).validated_data["body"]
        checks = check_reply(ticket, body=body, by=request.user, now=timezone.now())
        return Response(ReplyCheckResult({"commitments": checks}).data)


class TicketAttachment(ApiView):
    """A file that came with the ticket (the log lists them): always a download, never shown inline."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, reference: str, pk: int) -> FileResponse:
        ticket = visible(request.user, reference)
        found = ticket.attachments.filter(pk=pk).first()
        if found is None:
            raise NotFound(f"{ticket.reference} has no file {pk}.")
        return download(found)


class CustomerTickets(ApiView):
    """The customer's tickets that you may see, newest first (another team's are not listed)."""

    pagination_class = CursorPages  # tickets page by cursor, wherever they are listed

    @extend_schema(responses=TicketSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        customer = Customer.objects.visible_to(request.user).filter(pk=pk).first()
        if customer is None:
            raise NotFound(f"There is no customer {pk}.")
        return paged_tickets(self, Ticket.objects.visible_to(request.user).filter(customer=customer), "-created_at")


PromiseMade = inline_serializer("PromiseMade", {"promise": PromiseSerializer(), "verdict": VerdictSerializer()})


class TicketPromise(ApiView):
    """Every promise made on the ticket, newest first; POST makes a promise or changes the one pending.

    The overpromise guard judges the time: sooner than history says is realistic needs a ``reason``,
    otherwise the answer is a 409 whose ``verdict`` has the estimate, its sample size and your load.
    """

    pagination_class = NumberedPages
    error_codes = {"POST": ("409",)}  # sooner than the estimate without a reason

    @extend_schema(responses=PromiseSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        ticket = visible(request.user, reference)
        page = self.paginate_queryset(ticket.promises.select_related("made_by").order_by("-made_at", "-id"))
        return self.get_paginated_response(PromiseSerializer(page, many=True).data)

    @extend_schema(request=PromiseCreateSerializer, responses={201: PromiseMade})
    def post(self, request: Request, reference: str) -> Response:
        ticket = visible(request.user, reference)
        form = self.valid(PromiseCreateSerializer, request.data)
        promise = form.perform(ticket, request.user)
        body = {"promise": PromiseSerializer(promise).data, "verdict": verdict_json(promise.verdict)}
        return Response(body, status=status.HTTP_201_CREATED)


class TicketAction(ApiView):
    """An action on one ticket (``serializer_class`` says which); answers with the ticket as it left it."""

    error_codes = {"POST": ("409",)}  # a status move the transitions table forbids

    def post(self, request: Request, reference: str) -> Response:
        ticket = visible(request.user, reference)
        self.valid(self.get_serializer_class(), request.data).perform(ticket, request.user)
        return Response(ticket_detail(ticket))


ACTION_SUMMARIES = {
    "assign": "Assign the ticket to a member of its team, or to nobody",
    "transfer": "Hand the ticket to another team or person, with a hand-off note",
    "escalate": "Escalate the ticket one level up its path, with a hand-off note",
    "resolve": "Resolve the ticket, with a summary the customer reads",
    "reopen": "Reopen a resolved ticket, saying why",
    "status": "Move the ticket between open, waiting on the customer and closed",
    "use-sender-details": "Update the customer's record with the name and phone given with this request",
    "new-link": "Replace the customer's status link and email them the new one",
}


def action_view(name: str) -> Any:
    """The view of one action: ``TicketAction`` with that action's serializer, documented as its own
    (``extend_schema_view`` gives each class its own copy of ``post`` to describe)."""
    serializer = ACTIONS[name]
    title = name.replace("-", " ").title().replace(" ", "")
    view: type[TicketAction] = type(f"{title}Action", (TicketAction,), {"serializer_class": serializer})
    described = extend_schema(
        request=serializer,
        responses=TicketDetailSerializer,
        summary=ACTION_SUMMARIES[name],
        description=serializer.__doc__ or "",
        parameters=[OpenApiParameter("reference", str, OpenApiParameter.PATH, description="e.g. PD-1042")],
    )
    return extend_schema_view(post=described)(view).as_view()


urlpatterns = [
    path("tickets/", TicketList.as_view(), name="tickets"),
    path("tickets/<str:reference>/", TicketDetail.as_view(), name="ticket"),
    path("tickets/<str:reference>/interactions/", TicketInteractions.as_view(), name="ticket-interactions"),
    path("tickets/<str:reference>/reply-check/", TicketReplyCheck.as_view(), name="ticket-reply-check"),
    path("tickets/<str:reference>/promise/", TicketPromise.as_view(), name="ticket-promise"),
    path("tickets/<str:reference>/files/<int:pk>/", TicketAttachment.as_view(), name="ticket-file"),
    *(path(f"tickets/<str:reference>/{name}/", action_view(name), name=f"ticket-{name}") for name in ACTIONS),
    path("customers/<int:pk>/tickets/", CustomerTickets.as_view(), name="customer-tickets"),
]
