"""Configuration pages for supervisors: teams and members, escalation paths and levels, categories."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path

from tickets.views.access import StaffRequest, supervisor_only


@supervisor_only
def index(request: StaffRequest) -> HttpResponse:
    return HttpResponse("Configuration")


app_name = "config"

urlpatterns = [
    path("", index, name="index"),
]
