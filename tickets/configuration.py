"""Supervisors' configuration: the forms for teams, escalation paths (with their levels) and categories
(calendars have theirs in ``tickets.calendar_forms``).

The views in ``tickets.views.configuration`` only read the object, hand the POST to one of these forms
and redirect. The forms check what was typed and call the rules in ``tickets.services.configuration``
(what may be deleted, names taken, how levels are renumbered) and ``tickets.services.calendars`` (the
warnings re-timed when a path's first team's calendar or a category's choice of business time changes), which the API
calls too: every mistake is caught with a message that says what to do.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.forms.formsets import DELETION_FIELD_NAME, ORDERING_FIELD_NAME

from helpdesk.forms import QuickSelect
from tickets.durations import SpokenDurationField, spoken_duration
from tickets.forms import PersonField, staff_people
from tickets.models import Calendar, Category, EscalationLevel, EscalationPath, Team
from tickets.services import calendars, configuration
from tickets.templatetags.desk import person

# --- Shared pieces -------------------------------------------------------------------------------


def staff_and(also: QuerySet[Any]) -> QuerySet[User]:
    """Active staff, plus the people ``also`` names who no longer are (they left, or lost staff status):
    they still show, ticked, so saving a form never quietly drops them."""
    return staff_people() | User.objects.filter(pk__in=also.values("pk"))


class PeopleField(forms.ModelMultipleChoiceField):
    """Several staff members, listed by the name people use (as ``PersonField`` lists one)."""

    label_from_instance = PersonField.label_from_instance


class QuickSelectMultiple(QuickSelect, forms.SelectMultiple):
    """``QuickSelect``'s Python-built options, reading every chosen value from the POST."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"multiple": True, **(attrs or {})})


class NamedForm(forms.ModelForm):
    """A form for a configuration row with a unique name (``configuration.check_name``), saved in one
    transaction with its lists."""

    noun = "row"

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        configuration.check_name(self._meta.model, name, pk=self.instance.pk, noun=self.noun)
        return name

    def save(self, commit: bool = True) -> Any:
        """Save in one transaction, a clash refused (``configuration.save_together``)."""
        if not commit:
            raise ValueError("A configuration form saves its row and lists together: commit=False is not offered.")
        return configuration.save_together(self.write)

    def write(self) -> Any:
        """The writes ``save`` wraps: the row and its many-to-many lists."""
        return super().save()


def _required(noun: str) -> dict[str, dict[str, str]]:
    return {"name": {"required": f"Give the {noun} a name."}}


# --- Teams ---------------------------------------------------------------------------------------


class TeamForm(NamedForm):
    """Name, calendar, lead and members; the lead ticked among the members (``configuration.check_lead``)."""

    noun = "team"
    calendar = forms.ModelChoiceField(
        Calendar.objects.all(),
        widget=QuickSelect,
        empty_label=None,
        help_text="When the team works: promises of categories that run in business time count only its open hours.",
        error_messages={"required": "Choose the calendar the team works to."},
    )
    lead = PersonField(User.objects.none(), required=False, empty_label="No lead")
    members = PeopleField(
        User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text="Members see and work the team's tickets.",
    )

    class Meta:
        model = Team
        fields = ["name", "calendar", "lead", "members"]
        error_messages = _required("team")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team = self.instance
        people = staff_and(User.objects.filter(Q(teams=team) | Q(led_teams=team))) if team.pk else staff_people()
        self.fields["lead"].queryset = people  # type: ignore[attr-defined]
        self.fields["members"].queryset = people  # type: ignore[attr-defined]
        # read once: the widget asks for its first option too (whether to mark the <select> required)
        self.fields["calendar"].choices = list(Calendar.objects.values_list("pk", "name"))  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if data.get("members") is not None:
            try:
                configuration.check_lead(data.get("lead"), data["members"])
            except ValidationError as refusal:
                self.add_error(None, refusal)
        return data

    def write(self) -> Team:
        """The team; on another calendar, the promises in business time of the categories whose tickets start
        with it (which run on its calendar) are warned in the new hours."""
        team: Team = super().write()
        if "calendar" in self.changed_data:
            calendars.hours_changed(Category.objects.starting_with(team))
        return team


# --- Escalation paths and their levels -----------------------------------------------------------


class LevelForm(forms.ModelForm):
    """One level of a path. Its option lists are read once by the formset and shared by every row."""

    class Meta:
        model = EscalationLevel
        fields = ["name", "team", "notify"]
        labels = {"notify": "People notified"}
        widgets = {"team": QuickSelect, "notify": QuickSelectMultiple(attrs={"size": 3})}
        error_messages = {
            "name": {"required": "Give the level a name."},
            "team": {"required": "Choose the team that works tickets at this level."},
        }

    def __init__(
        self, *args: Any, teams: list[Any], people: QuerySet[User], people_choices: list[Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        team, notify = self.fields["team"], self.fields["notify"]
        notify.queryset = people  # type: ignore[attr-defined]
        team.choices = teams  # type: ignore[attr-defined]
        notify.choices = people_choices  # type: ignore[attr-defined]
        notify.help_text = ""  # said once above the rows, not in every row


class BaseLevelFormSet(forms.BaseInlineFormSet):
    """A path's levels in the order shown: edit, add (blank rows), remove (tick), reorder (renumber)."""

    NEW_PATH_ROWS = 3

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", EscalationLevel.objects.prefetch_related("notify").order_by("position"))
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.extra = self.NEW_PATH_ROWS
        self.shared = level_choices(self.instance)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), **self.shared}

    def add_fields(self, form: forms.ModelForm, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields[ORDERING_FIELD_NAME].label = "Position"
        if DELETION_FIELD_NAME in form.fields:
            form.fields[DELETION_FIELD_NAME].label = "Remove"
            form.fields[DELETION_FIELD_NAME].widget.attrs["class"] = "form-check-input"

    def kept_forms(self) -> list[forms.ModelForm]:
        """The rows that will be levels: the existing ones not ticked for removal, and filled-in new ones."""
        initial = self.initial_form_count()
        return [
            form
            for i, form in enumerate(self.forms)
            if not _ticked_for_removal(form) and (i < initial or form.has_changed())
        ]

    def removed_levels(self) -> list[EscalationLevel]:
        return [form.instance for form in self.initial_forms if form.instance.pk and _ticked_for_removal(form)]

    def clean(self) -> None:
        super().clean()
        configuration.check_levels(len(self.kept_forms()), self.removed_levels())

    def save_in_order(self, path: EscalationPath) -> None:
        """Write the levels numbered 1..n in the order shown (``configuration.save_levels``)."""
        kept = [(form.save(commit=False), form.cleaned_data["notify"]) for form in self.ordered_forms]
        configuration.save_levels(path, kept, self.removed_levels())


def level_choices(path: EscalationPath) -> dict[str, Any]:
    """What every level's form offers, read once rather than once per row: a path's page (or API call) costs
    the same for one level or ten."""
    people = staff_and(User.objects.filter(notified_at_levels__path=path)) if path.pk else staff_people()
    return {
        "teams": [("", "Choose a team"), *Team.objects.values_list("pk", "name")],
        "people": people,
        "people_choices": [(user.pk, person(user)) for user in people],
    }


def _ticked_for_removal(form: forms.ModelForm) -> bool:
    return bool(form.cleaned_data.get(DELETION_FIELD_NAME))


LevelFormSet = forms.inlineformset_factory(
    EscalationPath,
    EscalationLevel,
    form=LevelForm,
    formset=BaseLevelFormSet,
    fields=["name", "team", "notify"],
    extra=1,
    can_order=True,
    can_delete=True,
    can_delete_extra=False,
)


class PathDetailsForm(NamedForm):
    """A path's name and description. The API sends the levels as a list and checks them itself."""

    noun = "path"

    class Meta:
        model = EscalationPath
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        error_messages = _required("path")


class PathForm(PathDetailsForm):
    """The path's page: name and description, with its levels as a formset (``form.levels``), saved together."""

    def __init__(self, data: Any = None, *, instance: EscalationPath | None = None) -> None:
        super().__init__(data, instance=instance)
        self.levels = cast(BaseLevelFormSet, LevelFormSet(data, instance=self.instance, prefix="levels"))

    def is_valid(self) -> bool:
        return all([super().is_valid(), self.levels.is_valid()])  # both, so every mistake shows at once

    def write(self) -> EscalationPath:
        """The path, then its levels. Updating the path row first locks it, so two supervisors saving the
        same path take turns and each renumbers from what the other committed."""
        path: EscalationPath = super().write()
        self.levels.save_in_order(path)
        return path


# --- Categories ----------------------------------------------------------------------------------


class CategoryForm(NamedForm):
    """A help topic and the defaults its tickets start from. Never deleted: deactivated (``is_active``)."""

    noun = "category"
    default_target = SpokenDurationField(
        label="Default promise target", help_text="Used while history is too thin to estimate from."
    )
    warn_min = SpokenDurationField(label="Warning window: at least", allow_zero=True, required=False)
    warn_fraction = forms.FloatField(
        label="Warning window: fraction of the promise's span",
        required=False,
        min_value=0,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0, "max": 1}),
    )

    class Meta:
        model = Category
        fields = [
            "name",
            "slug",
            "description",
            "default_priority",
            "escalation_path",
            "default_target",
            "warn_min",
            "warn_fraction",
            "business_hours",
            "is_active",
        ]
        labels = {
            "business_hours": "Promises run in business time: the working hours of its path's first team",
            "is_active": "Active (offered on the web form)",
        }
        help_texts = {
            "business_hours": (
                "Ticked, a promise's warning counts only the open hours of the calendar of the team at level 1 of the "
                "category's path, where its tickets start, whoever has a ticket later (nights, weekends, holidays and "
                "closed days don't count), and a wait on the customer moves its due time by the open hours waited. "
                "Promises already made keep their due time; their warnings move to the new hours."
            ),
            "is_active": "Untick to retire a category: its tickets keep it.",
        }
        widgets = {
            "default_priority": QuickSelect,
            "escalation_path": QuickSelect,
            "business_hours": forms.CheckboxInput(attrs={"class": "form-check-input"}),
            "is_active": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }
        error_messages = {
            **_required("category"),
            "escalation_path": {"required": "Choose the escalation path its tickets follow."},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.business_hours_before = self.instance.business_hours  # the form writes the POST onto the instance
        site_min, site_fraction = settings.PROMISE_WARN_MIN, settings.PROMISE_WARN_FRACTION
        self.fields["slug"].required = False
        self.fields["slug"].help_text = "In the web form's links. Empty: made from the name."
        self.fields["escalation_path"].empty_label = "Choose a path"  # type: ignore[attr-defined]
        self.fields["warn_min"].help_text = f"Empty: the site default, {spoken_duration(site_min)}."
        fraction = self.fields["warn_fraction"]
        fraction.help_text = (
            f"From 0 to 1; 0.25 warns in the last quarter of the time promised. "
            f"Empty: the site default, {site_fraction:g}. The window is whichever of the two is longer."
        )
        bad_fraction = "Type a fraction from 0 to 1 (0.25 is a quarter), or leave it empty for the site default."
        fraction.error_messages.update(invalid=bad_fraction, min_value=bad_fraction, max_value=bad_fraction)

    def clean_slug(self) -> str:
        data = self.cleaned_data
        return configuration.category_slug(data.get("slug", ""), name=data.get("name", ""), pk=self.instance.pk)

    def clean_escalation_path(self) -> EscalationPath:
        path: EscalationPath = self.cleaned_data["escalation_path"]
        configuration.check_path_has_levels(path)
        return path

    def write(self) -> Category:
        """The category; moved to or from business time, its promises are warned in the new hours."""
        category: Category = super().write()
        calendars.category_changed(category, business_hours_before=self.business_hours_before)
        return category
