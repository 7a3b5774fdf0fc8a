"""The agent desk: the queue, the ticket page and its actions. Thin: parse, call a form or service, respond.

Every ticket is looked up through ``Ticket.objects.visible_to``: a ticket an agent may not see is a 404,
on every page and action alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.forms import add_service_errors
from helpdesk.input import whole_number
from tickets.action_forms import (
    ACTION_LABELS,
    ACTIONS,
    ActionForm,
    PromiseForm,
    ReplyForm,
    WallClockField,
    parse_due,
)
from tickets.attachments import download
from tickets.commitments import check_reply
from tickets.forms import QUEUE_VIEWS, NewTicketForm, QueueFilterForm
from tickets.models import EscalationLevel, PromiseOutcome, PromiseState, Ticket, is_supervisor
from tickets.promise_rules import Overpromise, judge, quick_picks
from tickets.services.customer import Sender
from tickets.views.access import StaffRequest, safe_next, staff_only

PAGE_SIZE = 25
MAX_PAGE = 10_000  # deeper than anyone pages by hand; bounds the OFFSET a crafted URL can ask for
HISTORY_SHOWN = 10  # a customer's latest earlier requests on the ticket page; the rest are counted


def visible_ticket(user: User, reference: str) -> Ticket:
    """The ticket with this reference, if ``user`` may see it; a 404 otherwise, whether or not it exists."""
    return get_object_or_404(Ticket.objects.visible_to(user).by_reference(reference).with_parties())


# --- The queue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdPage:
    """One page of ids (the queue's tickets, a drill-down's rows), with Previous/Next but no total: counting a
    view of 100,000 tickets on every refresh would cost more than the page itself (the open views' sizes are
    on their tabs)."""

    number: int
    ids: list[int]
    has_next: bool

    @classmethod
    def of(cls, ids: QuerySet[Any, int], number: str | None, *, size: int = PAGE_SIZE) -> IdPage:
        page = min(max(1, whole_number(number) or 1), MAX_PAGE)
        start = (page - 1) * size
        found = list(ids[start : start + size + 1])
        return cls(number=page, ids=found[:size], has_next=len(found) > size)

    @property
    def has_previous(self) -> bool:
        return self.number > 1


@staff_only
@require_GET
def queue_tabs(request: StaffRequest) -> HttpResponse:
    """The views' tabs with their counts: loaded after the page and refreshed by htmx, so counting never
    delays the queue itself."""
    view = request.GET.get("view", "")
    return render(
        request,
        "desk/_queue_tabs.html",
        {"views": QUEUE_VIEWS, "view": view if view in QUEUE_VIEWS else "", "counts": queue_counts(request.user)},
    )


def queue_counts(user: User) -> dict[str, int]:
    """How many open tickets each view holds, in one query read from ``ticket_open_counts_idx``.

    "All I may see" has no count: counting settled history on every refresh costs a table scan.
    """
    visible = Ticket.objects.visible_to(user).filter(status__in=Ticket.OPEN_STATUSES)
    return visible.aggregate(
        mine=Count("pk", filter=Q(assignee=user)),
        teams=Count("pk", filter=Q(team__in=user.teams.values("pk"))),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        at_risk=Count("pk", filter=Q(promise_state=PromiseState.AT_RISK)),
        breached=Count("pk", filter=Q(promise_state=PromiseState.BREACHED)),
        waiting=Count("pk", filter=Q(status="waiting")),
    )


@staff_only
@require_GET
def queue(request: StaffRequest) -> HttpResponse:
    """The queue, ordered by promise due; htmx asks for the rows alone to refresh badges and counts.

    The page is chosen on ticket ids alone (a sort the indexes serve), then only its 25 rows are read
    with their customer, assignee and level.
    """
    user = request.user
    default_view = "all" if is_supervisor(user) else "teams"
    data = request.GET.copy()
    data.setdefault("view", default_view)
    filters = QueueFilterForm(data)
    tickets = filters.filter(Ticket.objects.visible_to(user), user=user, default_view=default_view)
    view = filters.cleaned_data.get("view") or default_view
    page = IdPage.of(tickets.order_by(*Ticket.QUEUE_ORDER).values_list("pk", flat=True), request.GET.get("page"))
    rows = Ticket.objects.select_related("customer", "assignee", "escalation_level", "team").in_bulk(page.ids)
    tickets_on_page = [rows[pk] for pk in page.ids if pk in rows]
    query = data.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "page": page,
        "tickets": tickets_on_page,
        "view": view,
        "views": QUEUE_VIEWS,
        "filtered": any(request.GET.get(name) for name in QueueFilterForm.FILTERS),
        "query": query.urlencode(),
        "now": timezone.now(),
    }
    template = "desk/_queue_live.html" if request.headers.get("HX-Request") else "desk/queue.html"
    return render(request, template, context)


# --- A ticket taken down by an agent -------------------------------------------------------------


@staff_only
@require_http_methods(["GET", "POST"])
def new_ticket(request: StaffRequest) -> HttpResponse:
    """A request an agent takes down (a call, a walk-in): the form, then the ticket (or the queue, with where
    it went, when it starts with a team this agent doesn't cover)."""
    form = NewTicketForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = form.perform(request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{ticket.reference} opened for {ticket.customer.name}; they were emailed "
                                      "their status link.")  # fmt: skip
            return redirect_after(request, ticket)
    return render(request, "desk/new_ticket.html", {"form": form}, status=400 if form.errors else 200)


# --- The ticket page ---------------------------------------------------------------------------


def ticket_context(ticket: Ticket, user: User, forms: dict[str, ActionForm] | None = None) -> dict[str, Any]:
    forms = forms or {}
    customer = ticket.customer
    # The customer's other requests, as far as this viewer may see them: another team's are not listed (nor
    # counted), as they are a 404 everywhere else.
    earlier = Ticket.objects.visible_to(user).filter(customer=customer).exclude(pk=ticket.pk)
    timeline = list(
        ticket.interactions.select_related("author").prefetch_related("attachments").order_by("created_at", "id")
    )
    sender = Sender.of(timeline)  # read off the timeline the page shows anyway
    return {
        "ticket": ticket,
        "customer": customer,
        "sender": sender,
        "sender_news": sender.news_for(customer),  # what the sender gave that the record does not say
        "history": earlier.prefetch_related("ratings").order_by("-created_at")[:HISTORY_SHOWN],
        "history_more": max(0, earlier.count() - HISTORY_SHOWN),
        "timeline": timeline,
        "promises": ticket.promises.select_related("made_by").order_by("-made_at", "-id"),
        "current_promise": ticket.promises.order_by("-made_at", "-id").select_related("made_by").first(),
        "levels": EscalationLevel.objects.filter(path_id=ticket.escalation_level.path_id)
        .select_related("team")
        .order_by("position"),
        "handoff": ticket.interactions.latest_handoff(),
        "forms": {
            name: forms.get(name) or form_class(ticket=ticket, action=name) for name, form_class in ACTIONS.items()
        },
        "action_labels": ACTION_LABELS,
        "can_act": ticket.is_open,
        "quick_picks": quick_picks(ticket, now=timezone.now()) if ticket.is_open else [],
    }


@staff_only
@require_GET
def ticket_page(request: StaffRequest, reference: str) -> HttpResponse:
    ticket = visible_ticket(request.user, reference)
    return render(request, "desk/ticket.html", ticket_context(ticket, request.user))


@staff_only
@require_POST
def ticket_action(request: StaffRequest, reference: str, action: str) -> HttpResponse:
    """Every action: validate the form, call its service, or show the page again with the errors and input."""
    form_class = ACTIONS.get(action)
    ticket = visible_ticket(request.user, reference)
    if form_class is None:
        raise Http404("No such action.")
    form = form_class(request.POST, ticket=ticket, action=action)
    if form.is_valid():
        try:
            form.perform(request.user)
        except Overpromise as refusal:
            form.add_error("reason", refusal.short)  # the guard's box beside it shows the numbers
            if isinstance(form, PromiseForm):
                form.verdict = refusal.verdict
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, form.success)
            return redirect_after(request, ticket)
    ticket.refresh_from_db()
    if isinstance(form, PromiseForm) and form.verdict is None and form.cleaned_data.get("due_at"):
        # Refused for another reason: still show what the guard says about the time typed.
        form.verdict = judge(ticket, due_at=form.cleaned_data["due_at"], by=request.user, now=timezone.now())
    context = ticket_context(ticket, request.user, {action: form})
    context["open_action"] = action
    context["failed_form"] = form
    if isinstance(form, ReplyForm):  # what the reply promises, with the reason asked for beside it
        context["reply_notice"] = reply_notice(ticket, form, request.user)
    return render(request, "desk/ticket.html", context, status=400)


def redirect_after(request: StaffRequest, ticket: Ticket) -> HttpResponse:
    """Back where the form asked (the dashboard's inline actions), else to the ticket, or to the queue when
    the action handed it to people this agent doesn't cover."""
    target = safe_next(request)
    if target:
        return redirect(target)
    if Ticket.objects.visible_to(request.user).filter(pk=ticket.pk).exists():
        return redirect("desk:ticket", reference=ticket.reference)
    ticket.refresh_from_db()
    messages.info(request, f"{ticket.reference} is now with {ticket.team}; it has left your queue.")
    return redirect("desk:queue")


@staff_only
@require_GET
def promise_check(request: StaffRequest, reference: str) -> HttpResponse:
    """The guard, live: what history says about the time being typed (htmx partial)."""
    ticket = visible_ticket(request.user, reference)
    verdict, problem = None, ""
    if request.GET.get("due_at"):
        try:
            now = timezone.now()
            due_at = parse_due(WallClockField().clean(request.GET["due_at"]), request.GET.get("fold"), now=now)
            verdict = judge(ticket, due_at=due_at, by=request.user, now=now)
        except ValidationError as error:
            problem = " ".join(error.messages)
    return render(
        request,
        "desk/_promise_guard.html",
        {"verdict": verdict, "problem": problem, "reason": request.GET.get("reason", "")},
    )


@staff_only
@require_POST
def reply_check(request: StaffRequest, reference: str) -> HttpResponse:
    """What the reply being typed promises, in the customer's time, and what the guard says of each time (htmx
    partial). A POST, as a reply is too long for a query string; it writes nothing."""
    ticket = visible_ticket(request.user, reference)
    form = ReplyForm(request.POST, ticket=ticket, action="reply")
    form.is_valid()
    return render(request, "desk/_reply_commitments.html", {"notice": reply_notice(ticket, form, request.user)})


def reply_notice(ticket: Ticket, form: ReplyForm, user: User) -> dict[str, Any]:
    """The reply form's notice: each time the reply commits to with the guard's verdict, and the reasons typed."""
    body = getattr(form, "cleaned_data", {}).get("body", "")
    checks = check_reply(ticket, body=body, by=user, now=timezone.now()) if body else []
    return {
        "checks": checks,
        "sooner": any(check.verdict.sooner_than_estimate for check in checks),
        "changes": bool(checks) and ticket.promises.filter(outcome=PromiseOutcome.PENDING).exists(),
        "zone_known": bool(ticket.customer.time_zone),
        "customer": ticket.customer,
        "form": form,
    }


@staff_only
@require_GET
def attachment(request: StaffRequest, reference: str, pk: int) -> FileResponse:
    """A file of a ticket this agent may see: always a download, never shown inline."""
    return download(visible_ticket(request.user, reference).attachments.filter(pk=pk).first())
