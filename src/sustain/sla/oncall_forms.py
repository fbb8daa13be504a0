"""The on-call forms: a rotation (its settings and participants in order) and an override.

Participants are a list of selects named `participant`, in order; the buttons beside them
(add, remove, move up or down) re-render the form from what was typed. Only people who may
carry the chosen team's pager (`oncall.eligible`, the rule of `oncall.check_member`) are
offered, and anyone else posted is refused beside their row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.text import slugify

from sustain.accounts.models import Team, User
from sustain.core import timezones
from sustain.core.errors import ActionError
from sustain.core.ids import as_id
from sustain.core.tenancy import visible
from sustain.sla import oncall
from sustain.sla.models import OnCallSchedule

NOT_ALLOWED = (
    "{name} may not join this team's rota: only active agents who serve every customer, "
    "managers, or the team's own lead and members."
)
PARTICIPANT_BUTTONS = (
    "add_participant",
    "remove_participant",
    "participant_up",
    "participant_down",
)


class Person(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name or obj.email)


def zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(timezones.known())]


class RotationForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.SlugField(
        label="Short name",
        max_length=60,
        required=False,
        help_text="In links; from the name if empty.",
    )
    team = forms.ModelChoiceField(queryset=Team.objects.all(), empty_label="choose a team")
    timezone = forms.ChoiceField(label="Time zone", choices=zone_choices)
    shift_hours = forms.IntegerField(
        label="Shift length (hours)",
        min_value=1,
        initial=168,
        help_text="24 = daily, 168 = weekly.",
    )
    handover = forms.TimeField(
        label="Hand-over at", initial="09:00", widget=forms.TimeInput(attrs={"type": "time"})
    )
    rotation_start = forms.DateField(
        label="First shift on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The first participant's first shift starts this day at the hand-over.",
    )
    ack_minutes = forms.IntegerField(
        label="Acknowledge within (minutes)",
        min_value=1,
        initial=15,
        help_text="Otherwise the next person is paged.",
    )

    def __init__(self, *args: Any, viewer: User, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not viewer.is_manager:  # a team's lead sets up their own teams' rotations
            team: Any = self.fields["team"]
            team.queryset = Team.objects.filter(lead=viewer)
        if editing:
            del self.fields["slug"]  # links to the rotation keep working

    def values(self, *, editing: bool) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["timezone_name"] = data.pop("timezone")
        if not editing:
            data["slug"] = data.get("slug") or slugify(data["name"])[:60]
        return data


@dataclass
class Participants:
    """The rotation's participants as posted: one select per person, in order."""

    values: list[str]
    options: Any  # the people who may be chosen
    errors: list[str] = field(default_factory=list)
    problem: str = ""  # about the list as a whole

    @classmethod
    def posted(cls, data: QueryDict, options: Any) -> Participants:
        values = list(data.getlist("participant"))
        if "add_participant" in data:
            values.append("")
        index = _as_index(data.get("remove_participant"), len(values))
        if index is not None:
            values.pop(index)
        index = _as_index(data.get("participant_up"), len(values))
        if index:
            values[index - 1], values[index] = values[index], values[index - 1]
        index = _as_index(data.get("participant_down"), len(values))
        if index is not None and index < len(values) - 1:
            values[index], values[index + 1] = values[index + 1], values[index]
        return cls(values, options)

    @property
    def rows(self) -> list[tuple[int, str, str]]:
        errors = self.errors + [""] * (len(self.values) - len(self.errors))
        return [(i, value, errors[i]) for i, value in enumerate(self.values)]

    def clean(self) -> list[User] | None:
        """The people chosen, or None with an error beside each row at fault."""
        allowed = {str(p.pk): p for p in self.options}
        chosen: list[User] = []
        self.errors = []
        for value in self.values:
            person = allowed.get(value)
            if not value:
                self.errors.append("Choose a person, or remove this row.")
            elif person is None:
                pk = as_id(value)
                other = User.objects.filter(pk=pk).first() if pk is not None else None
                self.errors.append(NOT_ALLOWED.format(name=other.name if other else "This person"))
            elif person in chosen:
                self.errors.append(f"{person.name} is on the rota already.")
            else:
                self.errors.append("")
                chosen.append(person)
        if not self.values:
            self.problem = "A rotation needs at least one participant."
        if self.problem or any(self.errors):
            return None
        return chosen


def _as_index(value: Any, count: int) -> int | None:
    try:
        index = int(value)
    except (TypeError, ValueError):
        return None
    return index if 0 <= index < count else None


def people_for(team: Team | None, viewer: User) -> Any:
    """Whom the participant and override selects offer for `team`."""
    return oncall.eligible(team, visible(User.objects.all(), viewer)).order_by("name")


def chosen_team(form: RotationForm, schedule: OnCallSchedule | None) -> Team | None:
    """The team the form names (typed or saved), so the selects offer its people."""
    pk = as_id(form.data.get("team")) if form.is_bound else None
    if pk is not None:
        return Team.objects.filter(pk=pk).first()
    return schedule.team if schedule is not None else None


class OverrideForm(forms.Form):
    user = Person(label="Who", queryset=User.objects.none(), empty_label="choose a person")
    start = forms.DateTimeField(
        label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    end = forms.DateTimeField(
        label="Until", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args: Any, people: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        user: Any = self.fields["user"]
        user.queryset = people
        user.error_messages["invalid_choice"] = NOT_ALLOWED.format(name="This person")


def file_errors(exc: ActionError, form: forms.Form, people: Participants | None = None) -> None:
    """Every refusal of the action beside the field it names (the form's top otherwise)."""
    for error in exc.errors or [{"field": None, "message": exc.message}]:
        name = (error.get("field") or "").split(".")[0]
        name = {"timezone_name": "timezone"}.get(name, name)
        if name == "participants" and people is not None:
            people.problem = error["message"]
        elif name in form.fields:
            form.add_error(name, error["message"])
        else:
            form.add_error(None, error["message"])
