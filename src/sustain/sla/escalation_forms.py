"""The escalation rule form: the rule's trigger and scope, and its levels in order.

Levels are small forms prefixed `level-N`; adding, removing and moving a level re-renders the
form from what was typed (nothing is saved until "Save"). Each level's widgets become the
action list `sla.validation` checks, and the action's refusals are filed back beside the
widget they came from (`levels.1.actions.2.team` → level 2's "Reassign to team").
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from sustain.accounts.models import Organization, Role, Team, User
from sustain.core.errors import ActionError
from sustain.core.models import Priority
from sustain.core.tenancy import visible
from sustain.sla.models import EscalationRule, Metric, OnCallSchedule

MAX_LEVELS = 10
TRIGGERS = [
    (EscalationRule.Condition.SLA_WARNING, "SLA warning"),
    (EscalationRule.Condition.SLA_BREACH, "SLA breach"),
    (EscalationRule.Condition.UNASSIGNED, "Unassigned for N minutes"),
    (EscalationRule.Condition.NO_AGENT_UPDATE, "No agent update for N minutes"),
    (EscalationRule.Condition.P1_OPENED, "A P1 opened"),
]
NOTIFY = [
    ("assignee", "the assignee"),
    ("team_lead", "the team lead"),
    ("managers", "the managers"),
    ("on_call", "the person on call"),
]
METRICS = [
    ("", "any clock"),
    (Metric.FIRST_RESPONSE, "first response"),
    (Metric.NEXT_UPDATE, "next update"),
    (Metric.RESOLUTION, "resolution"),
]


class PersonChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.email})"


class RuleForm(forms.Form):
    name = forms.CharField(max_length=100)
    condition = forms.ChoiceField(label="Trigger", choices=TRIGGERS)
    minutes = forms.IntegerField(
        label="N (minutes)",
        min_value=0,
        initial=0,
        required=False,
        help_text="For “unassigned” and “no agent update”.",
    )
    metric = forms.ChoiceField(
        label="Clock", choices=METRICS, required=False, help_text="For SLA warning and breach."
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(), required=False, empty_label="any customer"
    )
    priority = forms.TypedChoiceField(
        choices=[("", "any priority"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="any team"
    )
    urgent = forms.BooleanField(
        required=False,
        help_text="Notify at any hour; otherwise notifications wait for working hours.",
    )
    active = forms.BooleanField(required=False, initial=True, label="Enabled")

    def __init__(self, *args: Any, viewer: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["organization"].queryset = visible(
            Organization.objects.filter(is_provider=False), viewer
        )
        fields["team"].queryset = Team.objects.all()

    def values(self) -> dict[str, Any]:
        """The rule's fields for the action."""
        data = dict(self.cleaned_data)
        data["minutes"] = data.get("minutes") or 0
        data["metric"] = data.get("metric") or ""
        return data


class LevelForm(forms.Form):
    delay_minutes = forms.IntegerField(
        label="After (minutes)", min_value=0, initial=0, help_text="From when the trigger began."
    )
    notify = forms.MultipleChoiceField(
        label="Notify", choices=NOTIFY, required=False, widget=forms.CheckboxSelectMultiple
    )
    page = forms.BooleanField(label="Page the person on call", required=False)
    page_schedule = forms.ModelChoiceField(
        label="Rotation to page",
        queryset=OnCallSchedule.objects.none(),
        required=False,
        empty_label="the ticket team's rotation",
    )
    reassign_team = forms.ModelChoiceField(
        label="Reassign to team",
        queryset=Team.objects.none(),
        required=False,
        empty_label="no reassignment",
    )
    raise_priority = forms.BooleanField(label="Raise the priority one step", required=False)
    watchers = PersonChoice(
        label="Add watchers",
        queryset=User.objects.none(),
        required=False,
        to_field_name="email",
        help_text="Hold Ctrl (⌘ on a Mac) to pick several.",
    )

    # Which widget each kind of action came from, for filing the action's refusals.
    WIDGET = {
        "notify": "notify",
        "page": "page_schedule",
        "reassign": "reassign_team",
        "raise_priority": "raise_priority",
        "add_watchers": "watchers",
    }

    def __init__(self, *args: Any, viewer: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["page_schedule"].queryset = OnCallSchedule.objects.select_related("team")
        fields["reassign_team"].queryset = Team.objects.all()
        fields["watchers"].queryset = visible(
            User.objects.filter(is_active=True).exclude(role=Role.CUSTOMER), viewer
        ).order_by("name")
        self.kinds: list[str] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not self.actions():
            raise forms.ValidationError("Choose at least one thing this level does.")
        return data

    def actions(self) -> list[dict[str, Any]]:
        """The level's action list, in the order the widgets are shown."""
        data, found = self.cleaned_data, []
        found += [{"do": "notify", "who": who} for who in data.get("notify") or []]
        if data.get("page") or data.get("page_schedule"):
            schedule = data.get("page_schedule")
            found.append({"do": "page", **({"schedule": schedule.slug} if schedule else {})})
        if data.get("reassign_team"):
            found.append({"do": "reassign", "team": data["reassign_team"].slug})
        if data.get("raise_priority"):
            found.append({"do": "raise_priority"})
        if data.get("watchers"):
            found.append({"do": "add_watchers", "users": [u.email for u in data["watchers"]]})
        self.kinds = [action["do"] for action in found]
        return found


def level_count(data: QueryDict) -> int:
    try:
        return max(1, min(int(data.get("levels", "1")), MAX_LEVELS))
    except ValueError:
        return 1


def rearranged(data: QueryDict) -> tuple[QueryDict, int]:
    """The posted data with the level button pressed applied (add, remove, move up/down),
    levels renumbered; and how many levels there are now."""
    count = level_count(data)
    order = list(range(count))
    if "add_level" in data and count < MAX_LEVELS:
        order.append(-1)
    move = _as_index(data.get("remove_level"), count)
    if move is not None and count > 1:
        order.remove(move)
    up = _as_index(data.get("level_up"), count)
    if up:
        order[up - 1], order[up] = order[up], order[up - 1]
    down = _as_index(data.get("level_down"), count)
    if down is not None and down < count - 1:
        order[down], order[down + 1] = order[down + 1], order[down]
    result = QueryDict(mutable=True)
    for key in data:
        if not key.startswith("level-"):
            result.setlist(key, data.getlist(key))
    for new, old in enumerate(order):
        for key in data:
            if key.startswith(f"level-{old}-"):
                result.setlist(f"level-{new}-{key.split('-', 2)[2]}", data.getlist(key))
        if old == -1:
            result[f"level-{new}-delay_minutes"] = "0"
    result["levels"] = str(len(order))
    return result, len(order)


def _as_index(value: Any, count: int) -> int | None:
    try:
        index = int(value)
    except (TypeError, ValueError):
        return None
    return index if 0 <= index < count else None


def initial_levels(rule: EscalationRule) -> list[dict[str, Any]]:
    """A saved rule's levels as the level forms' initial values."""
    found = []
    for level in rule.levels.all():
        values: dict[str, Any] = {"delay_minutes": level.delay_minutes, "notify": []}
        for action in level.actions:
            kind = action.get("do")
            if kind == "notify":
                values["notify"].append(action.get("who"))
            elif kind == "page":
                values["page"] = True
                slug = action.get("schedule")
                values["page_schedule"] = OnCallSchedule.objects.filter(slug=slug).first()
            elif kind == "reassign":
                values["reassign_team"] = Team.objects.filter(slug=action.get("team")).first()
            elif kind == "raise_priority":
                values["raise_priority"] = True
            elif kind == "add_watchers":
                values["watchers"] = list(User.objects.filter(email__in=action.get("users", [])))
        found.append(values)
    return found


def file_errors(exc: ActionError, rule: RuleForm, levels: list[LevelForm]) -> None:
    """Every refusal of the action beside the widget it names (the form's top otherwise)."""
    for error in exc.errors or [{"field": None, "message": exc.message}]:
        parts = (error.get("field") or "").split(".")
        if parts[0] == "levels" and len(parts) > 1 and parts[1].isdigit():
            _file_level_error(levels, parts[1:], error["message"])
        elif parts[0] in rule.fields:
            rule.add_error(parts[0], error["message"])
        else:
            rule.add_error(None, error["message"])


def _file_level_error(levels: list[LevelForm], parts: list[str], message: str) -> None:
    number = int(parts[0])
    if number >= len(levels):
        return
    form = levels[number]
    if len(parts) > 1 and parts[1] in form.fields:
        form.add_error(parts[1], message)
        return
    if len(parts) > 2 and parts[1] == "actions" and parts[2].isdigit():
        index = int(parts[2])
        if index < len(form.kinds):
            form.add_error(form.WIDGET[form.kinds[index]], message)
            return
    form.add_error(None, message)
