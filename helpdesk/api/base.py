"""The base every API view shares, and what a public one mixes in."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.utils import timezone
from rest_framework import authentication, permissions
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request

from helpdesk.api.fields import QueryParameters


class ApiView(GenericAPIView):
    """Times go out in UTC (``...Z``), whatever zone the desk shows a signed-in browser: a program reading
    the API should not get different offsets depending on a cookie.

    OPTIONS is not offered (405): the schema at /api/schema/ describes every endpoint, and DRF's OPTIONS
    description needs one serializer per view, which views with several (input, output) don't have.

    The query string of every GET is checked against ``query_parameters`` (by default, the paging parameters
    alone) before the view runs, so no endpoint silently ignores a parameter; the checked values are in
    ``self.query``.
    """

    metadata_class = None
    query_parameters: type[QueryParameters] = QueryParameters

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        timezone.activate(UTC)
        super().initial(request, *args, **kwargs)  # signed in and allowed first: a 401 before a 400
        if request.method == "GET":
            self.query = self.valid(self.query_parameters, request.query_params)

    def valid(self, serializer_class: type[Any], data: Any, **kwargs: Any) -> Any:
        """The serializer for ``data``, checked: a 400 naming every fault otherwise."""
        serializer = serializer_class(data=data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer


class Public:
    """Mix into a public endpoint: no sign-in, no session (so no CSRF), open to anyone. Rate limits guard it."""

    public = True
    authentication_classes: list[type[authentication.BaseAuthentication]] = []
    permission_classes = [permissions.AllowAny]
