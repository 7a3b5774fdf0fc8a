"""The upload page's two forms: the file with its column mapping, then the answers about what the desk
doesn't know (its priorities and its categories). The checks of the file itself are the reader's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.conf import settings

from tickets.estimates.files import COLUMNS
from tickets.estimates.models import HistoryImport
from tickets.models import Priority

# Categories asked about one by one, at most: each is a field of the POST, and Django refuses a POST of more
# than DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000) with a 400; the rest are created, as the command would.
ASKED = 900


class HistoryUploadForm(forms.Form):
    file = forms.FileField(
        label="History file (CSV, UTF-8)",
        error_messages={"required": "Choose the CSV file to import.", "empty": "The file is empty: choose another."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"Up to {settings.HISTORY_IMPORT_MAX_BYTES // (1024 * 1024)} MB."
        for column in COLUMNS:
            self.fields[f"column_{column}"] = forms.CharField(
                label=column,
                required=False,
                max_length=100,
                widget=forms.TextInput(attrs={"placeholder": column}),
                error_messages={"max_length": "A column's name is at most 100 characters."},
            )

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"column_{column}"] for column in COLUMNS]

    def maps_columns(self) -> bool:
        """Whether the mapping part should show open: a column was given, or one is wrong."""
        return any(field.value() or field.errors for field in self.column_fields())

    def columns(self) -> dict[str, str]:
        """Our column -> the file's, where the supervisor named one."""
        return {column: name for column in COLUMNS if (name := self.cleaned_data[f"column_{column}"].strip())}


class HistoryAnswersForm(forms.Form):
    """One field per priority the desk doesn't know (which of ours it is: required) and per category (the
    name of one of ours, from a list the page offers once for every field; empty to create it, inactive)."""

    def __init__(self, data: Any = None, *, record: HistoryImport, categories: Mapping[str, int]) -> None:
        """``categories``: the desk's, their name -> id."""
        super().__init__(data)
        self.desk_categories = categories
        self.priorities: list[str] = record.mapping.get("new_priorities", [])
        self.categories: list[str] = record.mapping.get("new_categories", [])
        for i, word in enumerate(self.priorities):
            self.fields[f"priority-{i}"] = forms.TypedChoiceField(
                label=word,
                choices=[("", "Choose one of ours…"), *Priority.choices],
                coerce=int,
                error_messages={"required": f"Say which of our priorities “{word}” is."},
            )
        for i, word in enumerate(self.categories[:ASKED]):
            self.fields[f"category-{i}"] = forms.CharField(
                label=word,
                required=False,
                max_length=100,
                widget=forms.TextInput(attrs={"list": "desk-categories", "placeholder": f"New: “{word}”"}),
            )

    def clean(self) -> dict[str, Any]:
        """Each category named must be one of the desk's, in any case."""
        data = super().clean() or self.cleaned_data
        ours = {name.casefold(): pk for name, pk in self.desk_categories.items()}
        for i, word in enumerate(self.categories[:ASKED]):
            name = (data.get(f"category-{i}") or "").strip()
            if name and name.casefold() not in ours:
                why = (
                    f"The desk has no category “{name}”: choose one of the list, or leave it empty to create “{word}”."
                )
                self.add_error(f"category-{i}", why)
            elif name:
                data[f"category-{i}"] = ours[name.casefold()]
        return data

    def priority_fields(self) -> list[forms.BoundField]:
        return [self[f"priority-{i}"] for i in range(len(self.priorities))]

    def category_fields(self) -> list[forms.BoundField]:
        return [self[f"category-{i}"] for i in range(min(len(self.categories), ASKED))]

    def not_asked(self) -> int:
        return max(len(self.categories) - ASKED, 0)

    def answers(self) -> tuple[dict[str, int], dict[str, int | None]]:
        """(their priority -> ours, their category -> the id of ours, for those mapped)."""
        data = self.cleaned_data
        priorities = {word: data[f"priority-{i}"] for i, word in enumerate(self.priorities)}
        categories: dict[str, int | None] = {
            word: pk for i, word in enumerate(self.categories[:ASKED]) if (pk := data[f"category-{i}"])
        }
        return priorities, categories
