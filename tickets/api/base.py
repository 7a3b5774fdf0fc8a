"""The base every API view shares."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.utils import timezone
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request


class ApiView(GenericAPIView):
    """Times go out in UTC (``...Z``), whatever zone the desk shows a signed-in browser: a program reading
    the API should not get different offsets depending on a cookie.

    OPTIONS is not offered (405): the schema at /api/schema/ describes every endpoint, and DRF's OPTIONS
    description needs one serializer per view, which views with several (input, output) don't have.
    """

    metadata_class = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        timezone.activate(UTC)
        super().initial(request, *args, **kwargs)

    def valid(self, serializer_class: type[Any], data: Any, **kwargs: Any) -> Any:
        """The serializer for ``data``, checked: a 400 naming every fault otherwise."""
        serializer = serializer_class(data=data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer
