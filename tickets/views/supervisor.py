"""The promise dashboard (supervisors): promises in danger now, and who keeps their word over time."""

from __future__ import annotations

from django.http import HttpResponse

from tickets.views.access import StaffRequest, supervisor_only


@supervisor_only
def now(request: StaffRequest) -> HttpResponse:
    return HttpResponse("Now")


figures = figures_csv = drill_down = drill_down_csv = now
