"""The customers' endpoints, for staff (``/api/v1/customers/...``): the directory. Each customer's tickets
(``customers/<id>/tickets/``) are listed by ``tickets.api.tickets``, as every ticket list is.

Staff see every customer (``Customer.objects.visible_to``) but only the tickets ``Ticket.objects.visible_to``
lets them see. The public endpoints (the request form and the status page) are in ``customers.public_api``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count
from django.urls import URLPattern, path, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from customers.models import Customer, CustomerTier
from customers.services import create_customer, update_customer
from helpdesk.api.base import ApiView
from helpdesk.api.fields import QueryParameters, StrictSerializer
from helpdesk.api.pagination import NumberedPages
from tickets.models import Ticket

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
        help_text="Recognises them when they write, however spelt; stored in one spelling; no two customers share one.",
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


urlpatterns: list[URLPattern] = [
    path("customers/", CustomerList.as_view(), name="customers"),
    path("customers/<int:pk>/", CustomerDetail.as_view(), name="customer"),
]
