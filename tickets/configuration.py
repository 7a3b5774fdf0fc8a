"""Supervisors' configuration: the forms for teams, escalation paths (with their levels) and categories,
and the few rules that guard them (what may be deleted, how levels are renumbered).

The views in ``tickets.views.configuration`` only read the object, hand the POST to one of these forms
and redirect; everything a supervisor can get wrong is caught here, with a message that says what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, Max, Prefetch, Q, QuerySet
from django.forms.formsets import DELETION_FIELD_NAME, ORDERING_FIELD_NAME
from django.utils.text import slugify

from helpdesk.forms import QuickSelect
from tickets.durations import SpokenDurationField, spoken_duration
from tickets.forms import PersonField, staff_people
from tickets.models import Category, EscalationLevel, EscalationPath, Promise, Team, Ticket
from tickets.templatetags.desk import person


def spoken_fraction(fraction: float) -> str:
    return f"{fraction * 100:g} %"


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
    """A form for a configuration row with a unique name, saved in one transaction with its lists.

    The name is how supervisors tell rows apart, so one that differs only in case ("billing") is refused
    too, with a message saying which row has it.
    """

    noun = "row"

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        model = self._meta.model
        taken = model._default_manager.filter(name__iexact=name).exclude(pk=self.instance.pk).first()
        if taken is not None:
            raise ValidationError(f"The name “{taken}” is taken by another {self.noun}: choose another.")
        return name

    def save(self, commit: bool = True) -> Any:
        """Save in one transaction. A clash the checks could not see (someone saved the same name a moment
        earlier) is refused like any other mistake, rather than failing with a server error."""
        if not commit:
            raise ValueError("A configuration form saves its row and lists together: commit=False is not offered.")
        try:
            with transaction.atomic():
                return self.write()
        except IntegrityError:
            raise ValidationError(
                "Someone saved a clashing change a moment ago, so nothing was saved: check the names and try again."
            ) from None

    def write(self) -> Any:
        """The writes ``save`` wraps: the row and its many-to-many lists."""
        return super().save()


def _required(noun: str) -> dict[str, dict[str, str]]:
    return {"name": {"required": f"Give the {noun} a name."}}


def _and(items: list[str]) -> str:
    """A list as a sentence says it: "a", "a and b", "a, b and c"."""
    return items[-1] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# --- Teams ---------------------------------------------------------------------------------------


class TeamForm(NamedForm):
    """Name, lead and members. The lead must be ticked among the members: refused rather than added
    silently, so nobody joins a team's queue without the supervisor seeing it."""

    noun = "team"
    lead = PersonField(User.objects.none(), required=False, empty_label="No lead")
    members = PeopleField(
        User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text="Members see and work the team's tickets.",
    )

    class Meta:
        model = Team
        fields = ["name", "lead", "members"]
        error_messages = _required("team")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team = self.instance
        people = staff_and(User.objects.filter(Q(teams=team) | Q(led_teams=team))) if team.pk else staff_people()
        self.fields["lead"].queryset = people  # type: ignore[attr-defined]
        self.fields["members"].queryset = people  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        lead, members = data.get("lead"), data.get("members")
        if lead is not None and members is not None and lead not in members:
            self.add_error("lead", f"{person(lead)} leads the team, so tick them among the members too.")
        return data


def team_in_use(team: Team) -> str:
    """Why the team can't be deleted, or "" if nothing points at it (three counting queries)."""
    tickets = Ticket.objects.filter(Q(team=team) | Q(first_response_team=team)).count()
    promises = Promise.objects.filter(team=team).count()
    levels = [
        f"level {level.position} of {level.path}"
        for level in team.escalation_levels.select_related("path").order_by("path__name", "position")
    ]
    uses = []
    if tickets or promises:
        uses.append(
            "still has " + _and([_count(n, noun) for n, noun in ((tickets, "ticket"), (promises, "promise")) if n])
        )
    if levels:
        uses.append("is " + _and(levels))
    if not uses:
        return ""
    advice = []
    if levels:
        advice.append("Give those levels another team first.")
    if tickets or promises:
        advice.append("Tickets and promises keep their team as history: a team that has had any can only be renamed.")
    return f"{team} can't be deleted: it {', and '.join(uses)}. {' '.join(advice)}"


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
        # Read once here rather than once per row: the page costs the same for one level or ten.
        path = self.instance
        people = staff_and(User.objects.filter(notified_at_levels__path=path)) if path.pk else staff_people()
        self.shared = {
            "teams": [("", "Choose a team"), *Team.objects.values_list("pk", "name")],
            "people": people,
            "people_choices": [(user.pk, person(user)) for user in people],
        }

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
        if not self.kept_forms():
            raise ValidationError("A path needs at least one level: tickets start at level 1.")
        refusals = [level_in_use(level) for level in self.removed_levels()]
        if any(refusals):
            raise ValidationError([refusal for refusal in refusals if refusal])

    def save_in_order(self, path: EscalationPath) -> None:
        """Write the levels numbered 1..n in the order shown. Runs inside the caller's transaction.

        1. Delete the levels ticked for removal (one tickets are still at is refused: PROTECT).
        2. Lift the kept levels above every position in use, in one UPDATE: PostgreSQL checks the unique
           (path, position) constraint row by row, so renumbering in place could collide midway.
        3. Number the levels 1..n in the order shown and save them, new ones too, with their people.
        """
        for level in self.removed_levels():
            try:
                level.delete()
            except models.ProtectedError:  # tickets reached it since the form was checked
                raise ValidationError(level_in_use(level)) from None
        ordered = self.ordered_forms
        levels = EscalationLevel.objects.filter(path=path)
        highest = levels.aggregate(highest=Max("position"))["highest"] or 0
        levels.update(position=F("position") + max(highest, len(ordered)))
        for position, form in enumerate(ordered, start=1):
            level = form.save(commit=False)
            level.path, level.position = path, position
            level.save()
            form.save_m2m()


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


def level_in_use(level: EscalationLevel) -> str:
    """Why the level can't be removed, or "" when no ticket is at it."""
    tickets = Ticket.objects.filter(escalation_level=level).count()
    if not tickets:
        return ""
    return (
        f"Level {level.position} “{level.name}” can't be removed: {_count(tickets, 'ticket')} "
        f"{'is' if tickets == 1 else 'are'} at it. Escalate or move the open ones first; a level that closed "
        "tickets ended at stays, but can be renamed or given another team."
    )


class PathForm(NamedForm):
    """A path's name and description, with its levels as a formset (``form.levels``), saved together."""

    noun = "path"

    class Meta:
        model = EscalationPath
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        error_messages = _required("path")

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


def path_in_use(path: EscalationPath) -> str:
    """Why the path can't be deleted, or "" if no category uses it and no ticket is at its levels."""
    categories = [category.name for category in path.categories.order_by("name")]
    tickets = Ticket.objects.filter(escalation_level__path=path).count()
    uses = []
    if categories:
        one = len(categories) == 1
        uses.append(f"the {'category' if one else 'categories'} {_and(categories)} still use{'s' if one else ''} it")
    if tickets:
        uses.append(f"{_count(tickets, 'ticket')} {'is' if tickets == 1 else 'are'} at its levels")
    if not uses:
        return ""
    advice = "Give those categories another path first." if categories else ""
    if tickets:
        advice += " Tickets keep their level as history: a path that has had any can only be renamed."
    return f"{path} can't be deleted: {' and '.join(uses)}. {advice.strip()}"


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
            "is_active",
        ]
        labels = {"is_active": "Active (offered on the web form)"}
        help_texts = {"is_active": "Untick to retire a category: its tickets keep it."}
        widgets = {
            "default_priority": QuickSelect,
            "escalation_path": QuickSelect,
            "is_active": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }
        error_messages = {
            **_required("category"),
            "escalation_path": {"required": "Choose the escalation path its tickets follow."},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
        slug: str = self.cleaned_data.get("slug") or slugify(self.cleaned_data.get("name", ""))
        if not slug:
            raise ValidationError("Type a slug (letters, digits and hyphens): there is no name to make one from.")
        taken = Category.objects.filter(slug=slug).exclude(pk=self.instance.pk).first()
        if taken is not None:
            raise ValidationError(f"The slug “{slug}” is taken by the category “{taken}”: type another.")
        return slug

    def clean_escalation_path(self) -> EscalationPath:
        path: EscalationPath = self.cleaned_data["escalation_path"]
        if not path.levels.exists():
            raise ValidationError(f"{path} has no levels yet, and tickets start at level 1: add one to it first.")
        return path


# --- The overview --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryRow:
    """A category with its durations and fraction as people read them ("" where the site default holds)."""

    category: Category
    target: str
    warn_min: str
    warn_fraction: str

    @classmethod
    def of(cls, category: Category) -> CategoryRow:
        return cls(
            category=category,
            target=spoken_duration(category.default_target),
            warn_min="" if category.warn_min is None else spoken_duration(category.warn_min),
            warn_fraction="" if category.warn_fraction is None else spoken_fraction(category.warn_fraction),
        )


def overview() -> dict[str, Any]:
    """The index page: four queries whatever the sizes. Teams with their lead and member count (1),
    paths (1) with their levels and the levels' teams (1), categories with their path (1)."""
    levels = EscalationLevel.objects.select_related("team").order_by("position")
    return {
        "teams": Team.objects.select_related("lead").annotate(member_count=Count("members")),
        "paths": EscalationPath.objects.prefetch_related(Prefetch("levels", queryset=levels)),
        "categories": [CategoryRow.of(c) for c in Category.objects.select_related("escalation_path")],
        "site_warn_min": spoken_duration(settings.PROMISE_WARN_MIN),
        "site_warn_fraction": spoken_fraction(settings.PROMISE_WARN_FRACTION),
    }


def delete_team(team: Team) -> None:
    _delete_unless_used(team, lambda: team_in_use(team))


def delete_path(path: EscalationPath) -> None:
    _delete_unless_used(path, lambda: path_in_use(path))


def _delete_unless_used(obj: models.Model, in_use: Callable[[], str]) -> None:
    """Delete a row nothing points at; otherwise raise ``ValidationError`` saying what does.

    Counted first, because Django's PROTECT would load every protecting row just to report them; the
    ``ProtectedError`` catch covers a ticket that arrives between the count and the delete.
    """
    refusal = in_use()
    if refusal:
        raise ValidationError(refusal)
    try:
        with transaction.atomic():
            obj.delete()
    except models.ProtectedError:
        raise ValidationError(in_use() or f"{obj} is in use and can't be deleted.") from None
