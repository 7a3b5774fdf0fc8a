"""Form pieces every app shares: widgets built in Python (Django renders each option and input through a
template, the slowest part of the desk's pages), and a service's refusal shown on a form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


class QuickSelect(forms.Select):
    """A <select> whose options are built in Python: Django renders each option through a template, which
    made the staff lists the slowest part of the desk's pages."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        chosen = {str(v) for v in (value if isinstance(value, list | tuple) else [value]) if v not in (None, "")}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((str(v), mark_safe(" selected") if str(v) in chosen else "", label) for v, label in self.choices),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)), options
        )


class QuickInput(forms.TextInput):
    """An <input> built in Python rather than through a template (the public form's hot path)."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "type": self.input_type, "name": name})
        shown = self.format_value(value)
        if shown is not None:
            final["value"] = shown
        return format_html("<input{}>", flatatt(final))


class QuickEmailInput(QuickInput):
    input_type = "email"


class QuickTextarea(forms.Textarea):
    """A <textarea> built in Python rather than through a template."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        return format_html("<textarea{}>\n{}</textarea>", flatatt(final), self.format_value(value) or "")


def add_service_errors(form: forms.BaseForm, error: forms.ValidationError) -> None:
    """Show a service's refusal on the form: next to the field it names, else at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)
