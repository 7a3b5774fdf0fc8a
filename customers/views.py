"""The customer's pages: no account, a private link. Thin: check, call a service, respond.

The status link's token is in the path (never a query string), no Referer carries it off the site, and a
wrong token gets the same 404 as a missing ticket; guessing is rate-limited per address.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from customers.forms import LinksForm, RatingForm, ReopenForm, ReplyForm, RequestForm
from helpdesk.ratelimit import allow, client_ip
from tickets import services
from tickets.customer_emails import expectation, queue_links_email, status_url
from tickets.forms import add_service_errors
from tickets.models import Promise, Ticket
from tickets.views.files import download

HOUR, MINUTE = 3600, 60


def too_many(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "customers/wait.html", {"message": message}, status=429)


def link_expired(ticket: Ticket) -> bool:
    """A closed request's link stops working some time after it was resolved: old links in old inboxes
    should not keep a customer's history readable forever."""
    if ticket.status != "closed" or ticket.resolved_at is None:
        return False
    return timezone.now() - ticket.resolved_at > timedelta(days=settings.STATUS_LINK_DAYS_AFTER_CLOSE)


def private(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A page behind a status token: rate-limited per address, same 404 for any wrong token, no Referer."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        limit = settings.STATUS_VIEWS_PER_IP_PER_MINUTE
        if not allow(f"status:{client_ip(request)}", limit=limit, window_seconds=MINUTE):
            return too_many(request, "You opened a lot of pages in a short time. Please wait a minute.")
        ticket = Ticket.objects.select_related("customer", "team", "assignee", "category").filter(token=token).first()
        if ticket is None or link_expired(ticket):
            raise Http404("No such request.")
        if ticket.customer.time_zone:  # times in the customer's own zone, when we know it
            timezone.activate(zoneinfo.ZoneInfo(ticket.customer.time_zone))
        response = view(request, ticket, *args, **kwargs)
        # No Referer leaves the site (outbound links never see the token). Not "no-referrer": browsers then
        # send "Origin: null" with the page's own forms, which CSRF protection rightly refuses.
        response["Referrer-Policy"] = "same-origin"
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapper


@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest) -> HttpResponse:
    """The web form: a request becomes a ticket once, however often the form is sent."""
    if request.method == "GET":
        return render(request, "customers/request.html", {"form": RequestForm()})
    form = RequestForm(request.POST, request.FILES)
    if form.is_bot:
        return render(request, "customers/thanks.html")  # tell a bot nothing
    if not allow(f"request-ip:{client_ip(request)}", limit=settings.REQUESTS_PER_IP_PER_HOUR, window_seconds=HOUR):
        return too_many(request, "We have received many requests from your network. Please try again in an hour.")
    if form.is_valid():
        data = form.cleaned_data
        email_key = f"request-email:{data['email'].lower()}"
        if not allow(email_key, limit=settings.REQUESTS_PER_EMAIL_PER_HOUR, window_seconds=HOUR):
            return too_many(
                request, "You have sent several requests in the last hour. Please wait before sending more."
            )
        try:
            ticket = services.open_ticket(
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
                subject=data["subject"],
                body=data["description"],
                category=data["category"],
                submission_key=data["submission_key"],
                attachments=data["attachments"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("customers:received", token=ticket.token)
    return render(request, "customers/request.html", {"form": form, "reattach": bool(request.FILES)}, status=400)


@private
def received(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    context = {"ticket": ticket, "expectation": expectation(ticket), "status_url": status_url(ticket)}
    return render(request, "customers/received.html", context)


def status_context(ticket: Ticket, **forms: Any) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "customer": ticket.customer,
        "timeline": ticket.interactions.public()
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "id"),
        "promise": ticket.promises.exclude(outcome=Promise.Outcome.SUPERSEDED).order_by("-made_at").first(),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "rating_form": forms.get("rating_form") or RatingForm(),
        "reopen_form": forms.get("reopen_form") or ReopenForm(),
        "rated": ticket.interactions.filter(kind="rating").exists(),
    }


@private
def status(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    return render(request, "customers/status.html", status_context(ticket))


THANKS = {
    "reply_form": "Thank you: your message is with us.",
    "rating_form": "Thank you for telling us how we did.",
    "reopen_form": "Your request is open again; we are on it.",
}


def _act(
    request: HttpRequest, ticket: Ticket, form: Any, name: str, act: Callable[[dict[str, Any]], Any]
) -> HttpResponse:
    """Validate a status-page form, call its service, or show the page again with the errors and the input."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, THANKS[name])
            return redirect("customers:status", token=ticket.token)
    return render(request, "customers/status.html", status_context(ticket, **{name: form}), status=400)


@require_POST
@private
def reply(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    """The customer writes again; if we were waiting on them, the promise clock runs again."""
    return _act(
        request,
        ticket,
        ReplyForm(request.POST, request.FILES),
        "reply_form",
        lambda data: services.receive_customer_message(ticket, body=data["body"], attachments=data["attachments"]),
    )


@require_POST
@private
def rate(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    return _act(
        request,
        ticket,
        RatingForm(request.POST),
        "rating_form",
        lambda data: services.rate(ticket, rating=data["rating"], comment=data["comment"]),
    )


@require_POST
@private
def reopen(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    return _act(
        request,
        ticket,
        ReopenForm(request.POST),
        "reopen_form",
        lambda data: services.reopen(ticket, reason=data["reason"]),
    )


@require_http_methods(["GET", "POST"])
def resend_links(request: HttpRequest) -> HttpResponse:
    """Links to one's open requests, by email. The answer is the same whether or not we know the address."""
    form = LinksForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = form.cleaned_data["email"].lower()
        allowed = allow(f"links-ip:{client_ip(request)}", limit=settings.REQUESTS_PER_IP_PER_HOUR, window_seconds=HOUR)
        if not allowed or not allow(f"links-email:{address}", limit=3, window_seconds=HOUR):
            return too_many(request, "We have sent links several times recently. Please check your inbox, or wait.")
        queue_links_email(address, now=timezone.now())
        return render(request, "customers/links_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "customers/links.html", {"form": form}, status=400 if form.errors else 200)


@private
def attachment(request: HttpRequest, ticket: Ticket, pk: int) -> FileResponse:
    """A file of this request, for whoever holds its link: always a download, never shown inline."""
    return download(ticket.attachments.filter(pk=pk).first())
