"""The public forms: what a customer types is checked here, with messages written for them."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings

from helpdesk.forms import QuickEmailInput, QuickInput, QuickSelect, QuickTextarea
from helpdesk.text import check_phone, no_control_characters, one_line
from tickets.models import Category
from tickets.services import ALLOWED, ALLOWED_WORDS, CheckedFile, check_uploads


class CustomerText(forms.CharField):
    """Text a customer types: no control characters; ``single_line`` fields (names, subjects) no line breaks."""

    def __init__(self, *args: Any, single_line: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.validators.append(one_line if single_line else no_control_characters)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files at once, each checked by ``tickets.services.check_uploads``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ",".join(ALLOWED)}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Attachments (optional)")
        kwargs.setdefault(
            "help_text",
            f"Up to {settings.ATTACHMENT_MAX_FILES} files: {ALLOWED_WORDS}, {settings.ATTACHMENT_MAX_MB} MB each.",
        )
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[CheckedFile]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        return check_uploads(files)


class RequestForm(forms.Form):
    """The request form at /. ``website`` is a honeypot: hidden from people, filled in by bots."""

    name = CustomerText(label="Your name", max_length=200, single_line=True, widget=QuickInput)
    email = forms.EmailField(
        label="Your email", max_length=254, help_text="We send your private status link here.", widget=QuickEmailInput
    )
    phone = CustomerText(label="Phone (optional)", max_length=40, required=False, widget=QuickInput)
    category = forms.ModelChoiceField(
        Category.objects.filter(is_active=True),
        label="What is it about?",
        empty_label="Choose a topic",
        widget=QuickSelect,
    )
    subject = CustomerText(label="Subject", max_length=200, single_line=True, widget=QuickInput)
    description = CustomerText(
        label="What happened, and what do you need?", max_length=10_000, widget=QuickTextarea(attrs={"rows": 6})
    )
    attachments = AttachmentsField()
    website = forms.CharField(required=False, label="Leave this empty")
    submission_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def clean_phone(self) -> str:
        return check_phone(self.cleaned_data["phone"])

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class ReplyForm(forms.Form):
    body = CustomerText(label="Your message", max_length=10_000, widget=forms.Textarea(attrs={"rows": 4}))
    attachments = AttachmentsField()


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How did we do?", choices=[(n, str(n)) for n in range(5, 0, -1)], coerce=int, widget=forms.RadioSelect
    )
    comment = CustomerText(
        label="Anything to add? (optional)", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReopenForm(forms.Form):
    reason = CustomerText(label="What is still wrong?", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class LinksForm(forms.Form):
    email = forms.EmailField(label="Your email", max_length=254)
