"""Files customers send: allowlisted by extension *and* by their content, size-limited, stored under
generated names outside the web root, and only ever served as a download (``download``), for the
customer's status page and the desk alike, each of which checks access first."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404

from tickets.models import Attachment
from tickets.models.log import storage_name as storage_name  # migration 0008 names it here

# extension -> (the type we serve it as, how its first bytes must look)
TEXT = "text"
ALLOWED: dict[str, tuple[str, tuple[bytes, ...] | str]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".txt": ("text/plain", TEXT),
    ".csv": ("text/csv", TEXT),
    ".log": ("text/plain", TEXT),
}
ALLOWED_WORDS = "PDF, PNG, JPEG, GIF, TXT, CSV or LOG"


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    name: str
    content_type: str


def clean_name(name: str) -> str:
    """Only the file's own name, without folders, control characters or path tricks, for display."""
    base = os.path.basename((name or "").replace("\\", "/")).strip().lstrip(".")
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    return base[:200] or "attachment"


def _looks_like(head: bytes, signature: tuple[bytes, ...] | str) -> bool:
    if isinstance(signature, str):  # TEXT
        if b"\x00" in head:
            return False
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:  # a multi-byte character cut at the end of the sample is fine
            return error.start >= len(head) - 3
        return True
    return any(head.startswith(magic) for magic in signature)


def check_uploads(files: list[UploadedFile]) -> list[CheckedFile]:
    """Every file passes, or a ValidationError names the one that doesn't and says why."""
    limit_mb = settings.ATTACHMENT_MAX_MB
    if len(files) > settings.ATTACHMENT_MAX_FILES:
        raise ValidationError(f"Attach at most {settings.ATTACHMENT_MAX_FILES} files.")
    checked = []
    for upload in files:
        name = clean_name(upload.name or "")
        extension = os.path.splitext(name)[1].lower()
        if extension not in ALLOWED:
            raise ValidationError(f"“{name}”: we accept {ALLOWED_WORDS} files only.")
        if upload.size is None or upload.size > limit_mb * 1024 * 1024:
            raise ValidationError(f"“{name}” is larger than {limit_mb} MB.")
        if upload.size == 0:
            raise ValidationError(f"“{name}” is empty.")
        content_type, signature = ALLOWED[extension]
        upload.seek(0)
        head = upload.read(2048)
        upload.seek(0)
        if not _looks_like(head, signature):
            raise ValidationError(f"“{name}” does not look like a {extension[1:].upper()} file.")
        checked.append(CheckedFile(upload=upload, name=name, content_type=content_type))
    return checked


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
