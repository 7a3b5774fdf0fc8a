"""What the configuration endpoints (``tickets.api.configuration``) read and write: the JSON of teams,
escalation paths and categories, and the input each write takes (calendars: ``tickets.api.calendar_serializers``).

Input is checked here for its types only (strict serializers); each row's values are then judged by the desk's
form for it (``tickets.configuration``), starting from the row as saved so a PATCH changes only what it sends,
and the form's errors are said under the API's field names (a level's as ``levels.<i>.<field>``, in the order
sent).
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms.models import model_to_dict
from rest_framework import serializers

from helpdesk.api.errors import GENERAL
from helpdesk.api.fields import StrictSerializer
from tickets.api.fields import PersonOut, PriorityField, Seconds
from tickets.api.serializers import NameRef
from tickets.configuration import (
    CategoryForm,
    LevelForm,
    NamedForm,
    PathDetailsForm,
    TeamForm,
    level_choices,
)
from tickets.models import Calendar, EscalationLevel, EscalationPath, Team
from tickets.services import configuration

# What an id the form does not offer is called in its refusal, by the model chosen from.
CHOSEN = {User: "active staff member", Team: "team", EscalationPath: "escalation path", Calendar: "calendar"}

LEVELS = "levels"  # the API's name for a path's list of levels


# --- Fields ------------------------------------------------------------------------------------------


def people(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=PersonOut(), **kwargs)


def ids(help_text: str, **kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=serializers.IntegerField(), required=False, help_text=help_text, **kwargs)


# --- Output --------------------------------------------------------------------------------------


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    calendar = NameRef(help_text="The calendar it works to: the hours of its promises in business time.")
    lead = PersonOut(allow_null=True)
    members = people(source="members.all", help_text="By username.")


class EscalationLevelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField(help_text="1 is where tickets start; each escalation moves up one.")
    name = serializers.CharField()
    team = NameRef()
    notify = people(source="notify.all", help_text="Told when a ticket reaches the level. Empty: the team.")


class EscalationPathSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    levels = EscalationLevelSerializer(many=True, source="levels.all", help_text="In order, from level 1.")


class CategorySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField(help_text="In the web form's links.")
    description = serializers.CharField(help_text="Shown to customers on the web form.")
    default_priority = PriorityField()
    escalation_path = NameRef(help_text="The path its tickets climb.")
    default_target_seconds = Seconds(
        source="default_target", help_text="The promise target used while history is too thin to estimate from."
    )
    warn_min_seconds = Seconds(
        source="warn_min", allow_null=True, help_text="The warning window's minimum. Null: the site's default."
    )
    warn_fraction = serializers.FloatField(
        allow_null=True, help_text="The warning window as a fraction of the promise's span. Null: the site's default."
    )
    business_hours = serializers.BooleanField(
        help_text="Its promises run in business time: their warnings count only the open hours of the calendar of "
        "the team at level 1 of its path."
    )
    is_active = serializers.BooleanField(help_text="Offered on the web form; false: retired (its tickets keep it).")


# --- Input: typed here, judged by the desk's form and the rules -----------------------------------------


def as_posted(row: models.Model, form_class: type[forms.ModelForm]) -> dict[str, Any]:
    """The row's saved values as ``form_class`` would be posted (related rows by id): where a PATCH starts,
    so what it does not send stays as it is, and a POST starts from the model's defaults."""
    values = model_to_dict(row, fields=list(form_class.base_fields))
    return {name: [one.pk for one in value] if isinstance(value, list) else value for name, value in values.items()}


def name_the_ids(form: forms.BaseForm) -> None:
    """An id the form does not offer is refused naming it: the form's own "Select a valid choice" suits a
    page's drop-down, where it can't happen, not an id in JSON."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):  # and ModelMultipleChoiceField, a subclass
            model = cast(QuerySet[Any], field.queryset).model
            noun = CHOSEN.get(model, model._meta.verbose_name)
            field.error_messages["invalid_choice"] = f"There is no {noun} with id %(value)s."


def named_errors(form: forms.BaseForm, serializer: serializers.Serializer, *, within: str = "") -> dict[str, list[str]]:
    """The form's errors under the API's names: a form field by the input field whose ``source`` it is, a
    fault in no one field as ``non_field_errors`` (in a row of a list, as the row: ``levels.2``)."""
    names = {field.source: name for name, field in serializer.fields.items()}

    def api_name(field: str) -> str:
        if field == NON_FIELD_ERRORS:
            return within or GENERAL
        name = names.get(field, field)
        return f"{within}.{name}" if within else name

    return {api_name(field): [str(message) for message in messages] for field, messages in form.errors.items()}


class FormInput(StrictSerializer):
    """Input checked for types only, then judged and saved by ``form_class``, the desk's form for the row:
    blank names, clashes, who may be chosen, durations and fractions in range are the form's to refuse."""

    form_class: ClassVar[type[NamedForm]]

    def perform(self, row: models.Model) -> Any:
        """Save the row through its form (one transaction, clashes refused), or a 400 naming every fault."""
        form = self.bound_form(row)
        if not form.is_valid():
            raise serializers.ValidationError(named_errors(form, self))
        return form.save()

    def bound_form(self, row: models.Model) -> NamedForm:
        data = {**as_posted(row, self.form_class), **self.validated_data}
        form = self.form_class(data, instance=row)
        name_the_ids(form)
        return form


class TeamWriteSerializer(FormInput):
    """A team's name, lead and members. The lead must be among the members (add them in the same request)."""

    form_class = TeamForm
    name = serializers.CharField(allow_blank=True, help_text="Unique, whatever the case.")
    calendar = serializers.IntegerField(
        required=False, help_text="The id of the calendar it works to. Left out of a new team: around the clock."
    )
    lead = serializers.IntegerField(required=False, allow_null=True, help_text="A member's id; null: no lead.")
    members = ids("Staff ids: the people who see and work the team's tickets. Replaces the list.")


class CategoryWriteSerializer(FormInput):
    """A category and the defaults its tickets start from. Never deleted: set ``is_active`` false to retire it."""

    form_class = CategoryForm
    name = serializers.CharField(allow_blank=True, help_text="Unique, whatever the case.")
    slug = serializers.CharField(
        required=False, allow_blank=True, help_text="In the web form's links. Empty or left out: made from the name."
    )
    description = serializers.CharField(required=False, allow_blank=True)
    default_priority = PriorityField(required=False, help_text="Left out of a new category: normal.")
    escalation_path = serializers.IntegerField(help_text="The id of the path its tickets climb (one with levels).")
    default_target_seconds = Seconds(
        source="default_target", required=False, help_text="Longer than zero. Left out of a new category: 8 hours."
    )
    warn_min_seconds = Seconds(source="warn_min", required=False, allow_null=True, help_text="Null: the site's.")
    warn_fraction = serializers.FloatField(required=False, allow_null=True, help_text="0 to 1. Null: the site's.")
    business_hours = serializers.BooleanField(
        required=False, help_text="True: its promises run in the team's open hours. Left out of a new category: false."
    )
    is_active = serializers.BooleanField(required=False, help_text="False retires the category.")


class EscalationLevelWriteSerializer(StrictSerializer):
    """One level, in the list's order. With ``id``, a level the path has, and what is left out stays as saved;
    without, a new level (name and team needed)."""

    elsewhere = {"position": "levels are numbered 1, 2, ... in the order of the list"}
    id = serializers.IntegerField(required=False, help_text="One of the path's levels; left out: a new level.")
    name = serializers.CharField(required=False, allow_blank=True)
    team = serializers.IntegerField(required=False, help_text="The id of the team that works tickets at the level.")
    notify = ids("Staff ids of the people told when a ticket reaches the level. Empty: the team.")


class EscalationPathWriteSerializer(FormInput):
    """A path and its levels, all saved together. ``levels`` is the whole list, in order: a level of the path
    left out is removed (refused while tickets are at it), and positions are renumbered 1..n."""

    form_class = PathDetailsForm
    name = serializers.CharField(allow_blank=True, help_text="Unique, whatever the case.")
    description = serializers.CharField(required=False, allow_blank=True)
    levels = EscalationLevelWriteSerializer(many=True, help_text="At least one: tickets start at level 1.")

    def perform(self, row: models.Model) -> Any:
        """Judge the path and every level at once (a 400 naming every fault), then save them together."""
        form = self.bound_form(row)
        levels, removed = level_forms(cast(EscalationPath, row), self.validated_data.get(LEVELS))
        faults = {} if form.is_valid() else named_errors(form, self)
        try:
            configuration.check_levels(len(levels), removed)
        except ValidationError as refusal:
            faults[LEVELS] = refusal.messages
        item = self.fields[LEVELS].child
        for at, level in enumerate(levels):
            if not level.is_valid():
                faults.update(named_errors(level, item, within=f"{LEVELS}.{at}"))
        if faults:
            raise serializers.ValidationError(faults)

        def write() -> EscalationPath:
            saved: EscalationPath = form.write()
            kept = [(level.save(commit=False), level.cleaned_data["notify"]) for level in levels]
            configuration.save_levels(saved, kept, removed)
            return saved

        return configuration.save_together(write)


def level_forms(
    escalation_path: EscalationPath, sent: list[dict[str, Any]] | None
) -> tuple[list[LevelForm], list[EscalationLevel]]:
    """The desk's form for each level sent, in order, and the path's levels left out (to remove).

    Without a list (a PATCH of the name), every level is kept as it is. Each id sent must be one of the
    path's levels, once; its form starts from the level as saved, overlaid with what was sent. A level
    without id is new, and judged whole: one sent without a name is refused, not ignored.
    """
    saved = {level.pk: level for level in escalation_path.levels.all()} if escalation_path.pk else {}
    listed = [{"id": pk} for pk in saved] if sent is None else sent
    check_level_ids(listed, saved)
    choices = level_choices(escalation_path)
    forms_in_order = []
    for row in listed:
        level = saved[row["id"]] if "id" in row else EscalationLevel()
        data = {**as_posted(level, LevelForm), **row} if level.pk else row
        forms_in_order.append(LevelForm(data, instance=level, **choices))
        name_the_ids(forms_in_order[-1])
    kept = {row["id"] for row in listed if "id" in row}
    return forms_in_order, [level for pk, level in saved.items() if pk not in kept]


def check_level_ids(listed: list[dict[str, Any]], saved: dict[int, EscalationLevel]) -> None:
    faults: dict[str, list[str]] = {}
    seen: set[int] = set()
    for at, row in enumerate(listed):
        if "id" not in row:
            continue
        if row["id"] not in saved:
            faults[f"{LEVELS}.{at}.id"] = [f"The path has no level with id {row['id']}: leave id out for a new one."]
        elif row["id"] in seen:
            faults[f"{LEVELS}.{at}.id"] = [f"Level {row['id']} is listed twice: list each level once."]
        seen.add(row["id"])
    if faults:
        raise serializers.ValidationError(faults)
