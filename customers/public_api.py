"""The two public endpoints: the request form (``requests/``) and the status page (``status/<token>/``), for a
customer-facing site or app.

They call the very functions the customer's pages call (``customers.public``: ``submit_request``,
``open_link``, ``status_facts``), so the form's rules, the rate limits and what a status link shows are the
same whichever door a customer uses.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Max
from django.http import Http404
from django.urls import URLPattern, path, reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from customers.forms import RequestForm
from customers.public import REPLACED, Ignored, LinkReplaced, Paused, TooMany, open_link, status_facts, submit_request
from helpdesk.api.base import ApiView, Public
from helpdesk.api.errors import GENERAL, Gone, ServiceUnavailable, TooManyRequests
from helpdesk.api.fields import StrictSerializer
from helpdesk.clients import client_ip
from helpdesk.clock import database_now
from tickets.models import Author, Interaction, InteractionKind, Promise, PromiseOutcome, Ticket, TicketStatus
from tickets.services import ALLOWED, expectation, status_url

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
    429 with ``Retry-After``; while the limits cannot count (Redis down or full) it is 503 ``unavailable``
    with ``Retry-After``, and nothing is stored.
    """

    error_codes = {"POST": ("503",)}

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
        except Paused as refusal:
            raise ServiceUnavailable(refusal.message, retry_after=refusal.retry_after) from None
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
    rated = serializers.BooleanField(help_text="The customer rated the latest resolution.")
    rating = serializers.IntegerField(allow_null=True, help_text="Their rating of the latest resolution (1 to 5).")
    can_reply = serializers.BooleanField(help_text="The request is open: the customer can write to us.")
    can_rate = serializers.BooleanField(
        help_text="Resolved, and the link still takes answers; rating again replaces the earlier rating."
    )
    can_reopen = serializers.BooleanField(
        help_text="Resolved, and the link still takes answers (for STATUS_LINK_ANSWER_DAYS after the resolution)."
    )


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


def status_json(ticket: Ticket, *, now: datetime) -> dict[str, Any]:
    """The status page's facts (``customers.public.status_facts``) as data: picked field by field, so an
    internal detail (a rating's agent, a note) can't slip out by being added to a model."""
    facts = status_facts(ticket, now=now)
    promise, rating = facts["promise"], facts["rating"]
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
        "rated": rating is not None,
        "rating": rating.stars if rating else None,
        "can_reply": ticket.is_open,
        "can_rate": facts["can_answer"],
        "can_reopen": facts["can_answer"],
    }


class StatusView(Public, ApiView):
    """The customer's status page as data, for whoever holds the link's token.

    The page's guards (``customers.public.open_link``): a per-address limit (429 with ``Retry-After``; it lets
    views through while it cannot count), a 410 for a link staff replaced, and the same 404 for a wrong token,
    an expired link and a missing request. Never cached along the way.
    """

    @extend_schema(
        responses=RequestStatus,
        summary="Read a request's status (as its status page shows it)",
        parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH, description="The status link's secret.")],
    )
    def get(self, request: Request, token: str) -> Response:
        try:
            now = database_now()
            ticket = open_link(token, ip=client_ip(request), now=now)
        except TooMany as refusal:
            raise TooManyRequests(refusal.message, retry_after=refusal.retry_after) from None
        except LinkReplaced:
            raise Gone(REPLACED) from None
        except Http404:
            raise NotFound("There is no request at this link, or the link has expired.") from None
        response = Response(RequestStatus(status_json(ticket, now=now)).data)
        response["Cache-Control"] = "private, no-store"
        return response


urlpatterns: list[URLPattern] = [
    path("requests/", RequestSubmit.as_view(), name="requests"),
    path("status/<str:token>/", StatusView.as_view(), name="status"),
]
