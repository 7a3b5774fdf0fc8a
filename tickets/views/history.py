"""The History part of the supervisors' Configuration pages: upload a file of past tickets, answer what the
desk doesn't know in it, watch a worker import it, read the outcome; and the list of past imports.

Thin, as the other configuration pages: each view reads its row, hands the input to a form and to
``tickets.estimates.uploads``, and answers. Supervisors and superusers only (``supervisor_only``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Max, Min
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tickets.estimates import uploads
from tickets.estimates.files import HistoryFileError
from tickets.estimates.forms import HistoryAnswersForm, HistoryUploadForm
from tickets.estimates.importer import AlreadyImported
from tickets.estimates.models import HistoryImport, ImportState, PastTicket
from tickets.estimates.refresh import guard_readings
from tickets.models import Category
from tickets.promise_rules import share_in_words
from tickets.views.access import StaffRequest, supervisor_only

LISTED = 100  # past imports listed, newest first
READINGS = 30  # the guard's estimates shown, those resting on most tickets first
SHOWN = 1000  # bad rows shown on the page; the download has them all


@supervisor_only
@require_http_methods(["GET", "POST"])
def history(request: StaffRequest) -> HttpResponse:
    """The upload form (step 1), the past imports, and what the guard reads now (the estimates the history
    gives)."""
    form = HistoryUploadForm(request.POST, request.FILES) if request.method == "POST" else None
    if form is not None and form.is_valid():
        try:
            record = uploads.receive_upload(
                form.cleaned_data["file"], columns=form.columns(), by=request.user, now=timezone.now()
            )
        except HistoryFileError as error:
            form.add_error("file", str(error))
        except AlreadyImported as already:
            messages.info(request, str(already))
            return redirect("desk:config:history")
        else:
            return redirect("desk:config:history-import", pk=record.pk)
    imports = list(HistoryImport.objects.select_related("imported_by")[: LISTED + 1])
    readings, estimates, borrowed = guard_readings(READINGS)
    context = {
        "form": form or HistoryUploadForm(),
        "imports": imports[:LISTED],
        "more": len(imports) > LISTED,
        "readings": readings,
        "estimates": estimates,
        "borrowed": borrowed,
        "share": share_in_words(settings.PROMISE_ESTIMATE_PERCENTILE),
        "past": PastTicket.objects.aggregate(count=Count("id"), first=Min("opened_at"), last=Max("opened_at")),
    }
    return render(request, "configuration/history.html", context, status=400 if form is not None else 200)


@supervisor_only
@require_http_methods(["GET", "POST"])
def history_import(request: StaffRequest, pk: int) -> HttpResponse:
    """One upload: its questions (step 2) until answered, then its progress (htmx asks every second for the
    status part alone), then what it did or why it was refused."""
    record = get_object_or_404(HistoryImport.objects.select_related("imported_by"), pk=pk)
    form = None
    if record.state == ImportState.UPLOADED:
        categories = dict(Category.objects.values_list("name", "pk"))
        posted = request.POST if request.method == "POST" else None  # bound even when empty: nothing to answer
        form = HistoryAnswersForm(posted, record=record, categories=categories)
        if form.is_bound and form.is_valid():
            priorities, chosen = form.answers()
            uploads.queue_import(record, priorities=priorities, categories=chosen)
            return redirect("desk:config:history-import", pk=record.pk)
    elif request.method == "POST":  # answered already (the form sent twice): show where it is
        return redirect("desk:config:history-import", pk=record.pk)
    problems = uploads.problems_of(record)
    context = {
        "record": record,
        "form": form,
        "reason": [problem.why for problem in problems if problem.line == 0],
        "problems": [problem for problem in problems if problem.line][:SHOWN],
        "more_problems": max(len([p for p in problems if p.line]) - SHOWN, 0),
    }
    if request.headers.get("HX-Request"):
        return render(request, "configuration/_history_status.html", context)
    bad = form is not None and form.is_bound
    return render(request, "configuration/history_import.html", context, status=400 if bad else 200)


@supervisor_only
@require_POST
def history_cancel(request: StaffRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(HistoryImport, pk=pk)
    if uploads.cancel_upload(record):
        messages.success(request, f"Cancelled: nothing of “{record.file_name}” was imported.")
        return redirect("desk:config:history")
    messages.error(request, "It is being imported already: too late to cancel.")
    return redirect("desk:config:history-import", pk=record.pk)


@supervisor_only
@require_GET
def history_problems(request: StaffRequest, pk: int) -> HttpResponse:
    """Every reason an import was refused, a line each, as a text file."""
    record = get_object_or_404(HistoryImport, pk=pk)
    text = "".join(f"{problem if problem.line else problem.why}\n" for problem in uploads.problems_of(record))
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{record.pk}-problems.txt"'
    return response
