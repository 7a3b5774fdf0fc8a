"""Serving a ticket's files, for the customer's status page and the desk alike (each checks access first)."""

from __future__ import annotations

from django.http import FileResponse, Http404

from tickets.models import Attachment


def download(found: Attachment | None) -> FileResponse:
    """Always a download, never shown inline: no sniffing, and a sandbox if a browser renders it anyway."""
    if found is None:
        raise Http404("No such file.")
    response = FileResponse(
        found.file.open("rb"), as_attachment=True, filename=found.original_name, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
