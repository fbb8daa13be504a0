"""Escalation rules in the product: agents read them, managers and admins set them up.

Every change goes through `sla.actions` (create, update, delete), as the API's do.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from sustain.accounts.models import Team, User
from sustain.core.access import agent_required
from sustain.core.errors import ActionError, Forbidden
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.sla import actions
from sustain.sla.escalation_forms import (
    NOTIFY,
    TRIGGERS,
    LevelForm,
    RuleForm,
    file_errors,
    initial_levels,
    level_count,
    rearranged,
)
from sustain.sla.models import EscalationLevel, EscalationRule, OnCallSchedule

LEVEL_BUTTONS = ("add_level", "remove_level", "level_up", "level_down")


def _rules(user: User) -> Any:
    return visible(
        EscalationRule.objects.select_related("organization", "team").prefetch_related("levels"),
        user,
    )


def _manager(user: User) -> None:
    if not user.is_manager:
        raise PermissionDenied("Only managers and administrators set up escalation.")


def describe(level: EscalationLevel, names: dict[str, dict[str, str]]) -> str:
    """A level's actions in words: "notify the team lead; page Desk rota"."""
    who = dict(NOTIFY)
    words = []
    for action in level.actions:
        kind = action.get("do")
        if kind == "notify":
            words.append(f"notify {who.get(action.get('who'), action.get('who'))}")
        elif kind == "page":
            slug = action.get("schedule")
            words.append(
                f"page {names['schedules'].get(slug, slug)}" if slug else "page the person on call"
            )
        elif kind == "reassign":
            words.append(f"reassign to {names['teams'].get(action['team'], action['team'])}")
        elif kind == "raise_priority":
            words.append("raise the priority")
        elif kind == "add_watchers":
            people = [names["people"].get(e.lower(), e) for e in action.get("users", [])]
            words.append(f"add watchers {', '.join(people)}")
    return "; ".join(words)


def _names(rules: list[EscalationRule]) -> dict[str, dict[str, str]]:
    emails = {
        e.lower()
        for rule in rules
        for level in rule.levels.all()
        for a in level.actions
        for e in a.get("users", [])
    }
    return {
        "teams": dict(Team.objects.values_list("slug", "name")),
        "schedules": dict(OnCallSchedule.objects.values_list("slug", "name")),
        "people": {
            e.lower(): n
            for e, n in User.objects.filter(email__in=emails).values_list("email", "name")
        },
    }


@agent_required
def rules(request: AuthedRequest) -> HttpResponse:
    found = list(_rules(request.user))
    names = _names(found)
    rows = [
        (
            rule,
            dict(TRIGGERS).get(rule.condition, rule.condition),
            [(level, describe(level, names)) for level in rule.levels.all()],
        )
        for rule in found
    ]
    return render(
        request,
        "sla/escalation_rules.html",
        {"rows": rows, "may_manage": request.user.is_manager},
    )


@agent_required
def new_rule(request: AuthedRequest) -> HttpResponse:
    _manager(request.user)
    if request.method == "POST":
        return _submitted(request, None)
    forms = [LevelForm(prefix="level-0", viewer=request.user)]
    return _form(request, RuleForm(viewer=request.user), forms, None)


@agent_required
def rule(request: AuthedRequest, rule_id: int) -> HttpResponse:
    """The rule: its form for managers, what it does for agents."""
    found = get_object_or_404(_rules(request.user), pk=rule_id)
    if not request.user.is_manager:
        if request.method == "POST":
            raise PermissionDenied("Only managers and administrators set up escalation.")
        levels = list(found.levels.all())
        names = _names([found])
        return render(
            request,
            "sla/escalation_rule.html",
            {
                "rule": found,
                "levels": [(level, describe(level, names)) for level in levels],
                "trigger": dict(TRIGGERS).get(found.condition, found.condition),
            },
        )
    if request.method == "POST":
        return _submitted(request, found)
    initial = {
        "name": found.name,
        "condition": found.condition,
        "minutes": found.minutes,
        "metric": found.metric,
        "organization": found.organization,
        "priority": found.priority,
        "team": found.team,
        "urgent": found.urgent,
        "active": found.active,
    }
    levels = [
        LevelForm(prefix=f"level-{i}", initial=values, viewer=request.user)
        for i, values in enumerate(initial_levels(found))
    ] or [LevelForm(prefix="level-0", viewer=request.user)]
    return _form(request, RuleForm(initial=initial, viewer=request.user), levels, found)


def _form(
    request: AuthedRequest,
    form: RuleForm,
    levels: list[LevelForm],
    found: EscalationRule | None,
    *,
    show_errors: bool = False,
    status: int = 200,
) -> HttpResponse:
    template = "sla/_rule_form.html" if request.htmx else "sla/escalation_form.html"
    context = {"form": form, "levels": levels, "rule": found, "show_errors": show_errors}
    return render(request, template, context, status=status)


def _submitted(request: AuthedRequest, found: EscalationRule | None) -> HttpResponse:
    data: QueryDict = request.POST
    button = any(key in data for key in LEVEL_BUTTONS)
    if button:
        data, count = rearranged(data)
    else:
        count = level_count(data)
    form = RuleForm(data, viewer=request.user)
    levels = [LevelForm(data, prefix=f"level-{i}", viewer=request.user) for i in range(count)]
    if button:  # only the levels changed: nothing checked or saved yet
        return _form(request, form, levels, found)
    valid = [form.is_valid(), *(level.is_valid() for level in levels)]
    if all(valid):
        try:
            saved = _save(request.user, found, form, levels)
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from None
        except ActionError as exc:
            file_errors(exc, form, levels)
        else:
            messages.success(request, f"Escalation rule “{saved.name}” saved.")
            if request.htmx:
                return HttpResponseClientRedirect("/sla/escalation")
            return redirect("sla:escalation_rules")
    return _form(request, form, levels, found, show_errors=True, status=422)


def _save(
    actor: User, found: EscalationRule | None, form: RuleForm, levels: list[LevelForm]
) -> EscalationRule:
    values = form.values()
    steps = [
        {"delay_minutes": f.cleaned_data["delay_minutes"], "actions": f.actions()} for f in levels
    ]
    if found is None:
        return actions.create_escalation_rule(actor, levels=steps, **values)
    return actions.update_escalation_rule(actor, found, levels=steps, **values)


@agent_required
@require_POST
def delete_rule(request: AuthedRequest, rule_id: int) -> HttpResponse:
    found = get_object_or_404(_rules(request.user), pk=rule_id)
    try:
        actions.delete_escalation_rule(request.user, found)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    messages.success(request, f"Escalation rule “{found.name}” deleted.")
    if request.htmx:
        return HttpResponseClientRedirect("/sla/escalation")
    return redirect("sla:escalation_rules")


@agent_required
@require_POST
def toggle_rule(request: AuthedRequest, rule_id: int) -> HttpResponse:
    """Enable or disable a rule (the button says which)."""
    found = get_object_or_404(_rules(request.user), pk=rule_id)
    enable = request.POST.get("active") == "on"
    try:
        actions.update_escalation_rule(request.user, found, active=enable)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    messages.success(request, f"“{found.name}” {'enabled' if enable else 'disabled'}.")
    return redirect("sla:escalation_rules")
