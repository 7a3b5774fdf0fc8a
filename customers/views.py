"""The customer's pages: no account, a private link. Thin: check, call a service, respond.

The rules of the two public doors, the request form and the status link, live in ``customers.public``
and serve the pages and the API (``customers.public_api``) alike, so the two faces can never drift apart.

The status link's token is in the path (never a query string), no Referer carries it off the site, a
wrong token gets the same 404 as a missing ticket (a replaced one, a 410 page saying so); guessing is
rate-limited per address.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from customers.forms import LinksForm, RatingForm, ReopenForm, ReplyForm, RequestForm
from customers.public import (
    HOUR,
    Ignored,
    LinkReplaced,
    Paused,
    TooMany,
    check_rate,
    check_takes_answers,
    open_link,
    status_facts,
    submit_request,
)
from helpdesk.clients import client_ip
from helpdesk.clock import database_now
from helpdesk.forms import add_service_errors
from helpdesk.ratelimit import FAIL_CLOSED
from helpdesk.text import normalise_email
from tickets import services
from tickets.models import Ticket
from tickets.services import download, expectation, queue_links_email, status_url


def please_wait(request: HttpRequest, refusal: TooMany | Paused) -> HttpResponse:
    """The "please wait" page: 429 over a limit, 503 when a limit that fails closed could not count."""
    status = 503 if isinstance(refusal, Paused) else 429
    response = render(request, "customers/wait.html", {"message": refusal.message}, status=status)
    response["Retry-After"] = str(refusal.retry_after)
    return response


def private(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A page behind a status token: rate-limited per address, same 404 for any wrong token (a replaced one
    says so, 410), no Referer."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response: HttpResponseBase
        now = database_now()  # the link's rules all judge this one moment
        try:
            ticket = open_link(token, ip=client_ip(request), now=now)
        except TooMany as refusal:  # the limit fails open: never Paused
            return please_wait(request, refusal)
        except LinkReplaced:
            response = render(request, "customers/link_replaced.html", status=410)
        else:
            if ticket.customer.time_zone:  # their own zone when on record, else the one their browser gave
                timezone.activate(ticket.customer.zone)
            response = view(request, ticket, *args, now=now, **kwargs)
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
    try:
        ticket = submit_request(form, ip=client_ip(request))
    except Ignored:
        return render(request, "customers/thanks.html")  # tell a bot nothing
    except (TooMany, Paused) as refusal:
        return please_wait(request, refusal)
    if ticket is not None:
        return redirect("customers:received", token=ticket.token)
    return render(request, "customers/request.html", {"form": form, "reattach": bool(request.FILES)}, status=400)


@private
def received(request: HttpRequest, ticket: Ticket, *, now: datetime) -> HttpResponse:
    context = {"ticket": ticket, "expectation": expectation(ticket), "status_url": status_url(ticket)}
    return render(request, "customers/received.html", context)


def status_context(ticket: Ticket, *, now: datetime, **forms: Any) -> dict[str, Any]:
    facts = status_facts(ticket, now=now)
    rating = facts["rating"]
    current = {"rating": rating.stars, "comment": rating.comment} if rating else None  # rating again replaces it
    answer_forms = {
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "rating_form": forms.get("rating_form") or RatingForm(initial=current),
        "reopen_form": forms.get("reopen_form") or ReopenForm(),
    }
    return {**facts, **answer_forms, "answer_forms": answer_forms.values()}


@private
def status(request: HttpRequest, ticket: Ticket, *, now: datetime) -> HttpResponse:
    return render(request, "customers/status.html", status_context(ticket, now=now))


THANKS = {
    "reply_form": "Thank you: your message is with us.",
    "rating_form": "Thank you for telling us how we did.",
    "reopen_form": "Your request is open again; we are on it.",
}


def _act(
    request: HttpRequest,
    ticket: Ticket,
    form: Any,
    name: str,
    act: Callable[[dict[str, Any]], Any],
    *,
    now: datetime,
) -> HttpResponse:
    """Validate a status-page form, call its service, or show the page again with the errors and the input.
    Every answer through the link passes ``check_takes_answers`` first."""
    if form.is_valid():
        try:
            check_takes_answers(ticket, now=now)
            act(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, THANKS[name])
            return redirect("customers:status", token=ticket.token)
    return render(request, "customers/status.html", status_context(ticket, now=now, **{name: form}), status=400)


@require_POST
@private
def reply(request: HttpRequest, ticket: Ticket, *, now: datetime) -> HttpResponse:
    """The customer writes again; if we were waiting on them, the promise clock runs again."""
    return _act(
        request,
        ticket,
        ReplyForm(request.POST, request.FILES),
        "reply_form",
        lambda data: services.receive_customer_message(ticket, body=data["body"], attachments=data["attachments"]),
        now=now,
    )


@require_POST
@private
def rate(request: HttpRequest, ticket: Ticket, *, now: datetime) -> HttpResponse:
    return _act(
        request,
        ticket,
        RatingForm(request.POST),
        "rating_form",
        lambda data: services.rate(ticket, rating=data["rating"], comment=data["comment"]),
        now=now,
    )


@require_POST
@private
def reopen(request: HttpRequest, ticket: Ticket, *, now: datetime) -> HttpResponse:
    return _act(
        request,
        ticket,
        ReopenForm(request.POST),
        "reopen_form",
        lambda data: services.reopen(ticket, reason=data["reason"]),
        now=now,
    )


@require_http_methods(["GET", "POST"])
def resend_links(request: HttpRequest) -> HttpResponse:
    """Links to one's open requests, by email. The answer is the same whether or not we know the address.

    Its limits fail closed when they cannot count (a 503): the form sends mail to any address typed in it.
    """
    form = LinksForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        address = normalise_email(form.cleaned_data["email"])
        message = "We have sent links several times recently. Please check your inbox, or wait."
        paused = "We cannot send links for a moment. Please try again in a minute."
        limits = [(f"links-ip:{client_ip(request)}", settings.REQUESTS_PER_IP_PER_HOUR), (f"links-email:{address}", 3)]
        try:
            for key, limit in limits:
                check_rate(key, limit=limit, window_seconds=HOUR, message=message, when_unavailable=FAIL_CLOSED,
                           paused=paused)  # fmt: skip
        except (TooMany, Paused) as refusal:
            return please_wait(request, refusal)
        queue_links_email(address, now=timezone.now())
        return render(request, "customers/links_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "customers/links.html", {"form": form}, status=400 if form.errors else 200)


@private
def attachment(request: HttpRequest, ticket: Ticket, pk: int, *, now: datetime) -> FileResponse:
    """A file of this request, for whoever holds its link: always a download, never shown inline."""
    return download(ticket.attachments.filter(pk=pk).first())
