"""On-call in the product: who is on call, the open pages to acknowledge, and the rotations
with their shift timeline, set up by managers, administrators and the team's lead.

Every change goes through `sla.actions`, as the API's do; the shifts come from `sla.oncall`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from sustain.accounts.models import User
from sustain.core import instants
from sustain.core.access import agent_required
from sustain.core.errors import ActionError, Forbidden
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.desk.models import Ticket
from sustain.sla import actions, oncall
from sustain.sla.models import OnCallOverride, OnCallSchedule, Page
from sustain.sla.oncall_forms import (
    PARTICIPANT_BUTTONS,
    OverrideForm,
    Participants,
    RotationForm,
    chosen_team,
    file_errors,
    people_for,
)

WEEKS = 4


def _schedules(user: User) -> Any:
    return visible(
        OnCallSchedule.objects.select_related("team").prefetch_related("participants__user"), user
    )


def may_manage(user: User, schedule: OnCallSchedule | None = None) -> bool:
    """Managers and administrators; a team's lead for that team's rotations."""
    if user.is_manager:
        return True
    if schedule is not None:
        return schedule.team.lead_id == user.pk
    return user.teams_led.exists()


def _pages(user: User) -> Any:
    """Pages the viewer may read: never one about a ticket they may not see."""
    return visible(Page.objects.select_related("schedule", "ticket", "user"), user).filter(
        Q(ticket__isnull=True) | Q(ticket__in=visible(Ticket.objects.all(), user))
    )


def open_pages(user: User) -> Any:
    """Open pages the viewer may answer: their own (managers: everyone's)."""
    pages = _pages(user).filter(
        acknowledged_at__isnull=True,
        escalated_at__isnull=True,
    )
    if not user.is_manager:
        pages = pages.filter(user=user)
    return pages.order_by("ack_due_at")


@agent_required
def on_call(request: AuthedRequest) -> HttpResponse:
    now, error = timezone.now(), ""
    if request.GET.get("at"):
        try:
            now = instants.parse_datetime(request.GET["at"])
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        except ValueError:
            now, error = timezone.now(), "Give the time as YYYY-MM-DDTHH:MM."
    rows = [(schedule, *oncall.on_call(schedule, now)) for schedule in _schedules(request.user)]
    context = {
        "rows": rows,
        "pages": open_pages(request.user),
        "now": now,
        "error": error,
        "may_manage": may_manage(request.user),
    }
    return render(request, "sla/oncall.html", context, status=422 if error else 200)


@agent_required
@require_POST
def acknowledge(request: AuthedRequest, page_id: int) -> HttpResponse:
    page = get_object_or_404(_pages(request.user), pk=page_id)
    try:
        actions.acknowledge(request.user, page)
        error, said = "", "Acknowledged: nobody else will be paged for it."
    except ActionError as exc:
        error, said = exc.message, ""
    if request.htmx:  # the list answered in place, with what happened in it
        context = {
            "pages": open_pages(request.user),
            "ack_error": error,
            "ack_done": said,
            "now": timezone.now(),
        }
        return render(request, "sla/_pages.html", context, status=409 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, said)
    return redirect("sla:oncall")


# --- rotations --------------------------------------------------------------------------
@agent_required
def new_rotation(request: AuthedRequest) -> HttpResponse:
    if not may_manage(request.user):
        raise PermissionDenied("Only managers, administrators and team leads set up on-call.")
    zone = timezone.get_current_timezone_name()
    form = RotationForm(
        request.POST or None,
        initial={"timezone": zone, "rotation_start": timezone.localdate()},
        viewer=request.user,
    )
    return _rotation_form(request, form, None)


@agent_required
def edit_rotation(request: AuthedRequest, schedule_id: int) -> HttpResponse:
    schedule = get_object_or_404(_schedules(request.user), pk=schedule_id)
    if not may_manage(request.user, schedule):
        raise PermissionDenied("Only managers, administrators and the team lead change on-call.")
    initial = {
        "name": schedule.name,
        "team": schedule.team,
        "timezone": schedule.timezone,
        "shift_hours": schedule.shift_hours,
        "handover": schedule.handover,
        "rotation_start": schedule.rotation_start,
        "ack_minutes": schedule.ack_minutes,
    }
    form = RotationForm(request.POST or None, initial=initial, editing=True, viewer=request.user)
    return _rotation_form(request, form, schedule)


def _rotation_form(
    request: AuthedRequest, form: RotationForm, schedule: OnCallSchedule | None
) -> HttpResponse:
    people = people_for(chosen_team(form, schedule), request.user)
    if request.method != "POST":
        saved = [str(p.user_id) for p in schedule.participants.all()] if schedule else [""]
        return _render_rotation(request, form, Participants(saved, people), schedule)
    participants = Participants.posted(request.POST, people)
    if any(key in request.POST for key in PARTICIPANT_BUTTONS):  # only the list changed
        return _render_rotation(request, form, participants, schedule)
    chosen = participants.clean()  # every row's problem, beside the fields' problems
    if form.is_valid() and chosen is not None:
        try:
            schedule = _save_rotation(request.user, schedule, form, chosen)
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from None
        except ActionError as exc:
            file_errors(exc, form, participants)
        else:
            messages.success(request, f"Rotation “{schedule.name}” saved.")
            url = reverse("sla:rotation", args=[schedule.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return _render_rotation(request, form, participants, schedule, show_errors=True, status=422)


def _save_rotation(
    actor: User, schedule: OnCallSchedule | None, form: RotationForm, chosen: list[User]
) -> OnCallSchedule:
    values = form.values(editing=schedule is not None)
    if schedule is None:
        return actions.create_schedule(actor, participants=chosen, **values)
    return actions.update_schedule(actor, schedule, participants=chosen, **values)


def _render_rotation(
    request: AuthedRequest,
    form: RotationForm,
    participants: Participants,
    schedule: OnCallSchedule | None,
    *,
    show_errors: bool = False,
    status: int = 200,
) -> HttpResponse:
    template = "sla/_rotation_form.html" if request.htmx else "sla/rotation_form.html"
    context = {
        "form": form,
        "participants": participants,
        "schedule": schedule,
        "show_errors": show_errors,
    }
    return render(request, template, context, status=status)


@agent_required
@require_POST
def delete_rotation(request: AuthedRequest, schedule_id: int) -> HttpResponse:
    schedule = get_object_or_404(_schedules(request.user), pk=schedule_id)
    try:
        actions.delete_schedule(request.user, schedule)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    messages.success(request, f"Rotation “{schedule.name}” deleted.")
    url = reverse("sla:oncall")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@dataclass(frozen=True)
class Bar:
    """One cell of a week's bar: `span` hours of `shift` (None: nobody on call)."""

    span: int
    shift: oncall.Shift | None

    @property
    def colour(self) -> str:
        """A class: overrides hatched, each participant a colour of their own (six, cycled)."""
        if self.shift is None:
            return "gap"
        if self.shift.source == "override":
            return "ov"
        return f"p{self.shift.position % 6}" if self.shift.position >= 0 else "px"


def week_bars(shifts: list[oncall.Shift], start: datetime, weeks: int) -> list[dict[str, Any]]:
    """Each week as day headers and bar cells, in whole hours (the table's columns)."""
    found = []
    for week in range(weeks):
        begins = start + timedelta(days=7 * week)
        ends = begins + timedelta(days=7)
        hours = round((ends - begins) / timedelta(hours=1))
        days = [
            (
                begins + timedelta(days=d),
                _hour(begins, begins + timedelta(days=d + 1), hours)
                - _hour(begins, begins + timedelta(days=d), hours),
            )
            for d in range(7)
        ]
        cells: list[Bar] = []
        at = 0
        for shift in shifts:
            if shift.end <= begins or shift.start >= ends:
                continue
            first = _hour(begins, max(shift.start, begins), hours)
            last = _hour(begins, min(shift.end, ends), hours)
            if first > at:
                cells.append(Bar(first - at, None))
            if last > max(first, at):
                cells.append(Bar(last - max(first, at), shift))
                at = last
        if at < hours:
            cells.append(Bar(hours - at, None))
        found.append({"start": begins, "hours": hours, "days": days, "cells": cells})
    return found


def _hour(begins: datetime, at: datetime, limit: int) -> int:
    return max(0, min(limit, round((at - begins) / timedelta(hours=1))))


@agent_required
def rotation(request: AuthedRequest, schedule_id: int) -> HttpResponse:
    """A rotation: its settings, the coming weeks' shifts in the viewer's zone, overrides."""
    schedule = get_object_or_404(_schedules(request.user), pk=schedule_id)
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    shifts = oncall.shifts(schedule, start, start + timedelta(weeks=WEEKS))
    people = _override_people(request.user, schedule)
    participant = schedule.participants.filter(user=request.user).exists()
    context = {
        "schedule": schedule,
        "shifts": shifts,
        "weeks": week_bars(shifts, start, WEEKS),
        "now": timezone.now(),
        "overrides": schedule.overrides.filter(end__gt=timezone.now()).select_related("user"),
        "may_manage": may_manage(request.user, schedule),
        "may_override": may_manage(request.user, schedule) or participant,
        "override_form": OverrideForm(people=people),
        "zone": timezone.get_current_timezone_name(),
    }
    return render(request, "sla/rotation.html", context)


def _override_people(user: User, schedule: OnCallSchedule) -> Any:
    """Whom an override may name: anyone allowed on the rota for those who manage it, else
    only the viewer (a participant taking a shift)."""
    people = people_for(schedule.team, user)
    return people if may_manage(user, schedule) else people.filter(pk=user.pk)


@agent_required
@require_POST
def add_override(request: AuthedRequest, schedule_id: int) -> HttpResponse:
    schedule = get_object_or_404(_schedules(request.user), pk=schedule_id)
    form = OverrideForm(request.POST, people=_override_people(request.user, schedule))
    if form.is_valid():
        try:
            actions.add_override(request.user, schedule, **form.cleaned_data)
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from None
        except ActionError as exc:
            file_errors(exc, form)
        else:
            messages.success(request, "Override added.")
            url = reverse("sla:rotation", args=[schedule.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = {"schedule": schedule, "override_form": form, "show_errors": True}
    template = "sla/_override_form.html" if request.htmx else "sla/override_form.html"
    return render(request, template, context, status=422)


@agent_required
@require_POST
def remove_override(request: AuthedRequest, schedule_id: int, override_id: int) -> HttpResponse:
    schedule = get_object_or_404(_schedules(request.user), pk=schedule_id)
    override = get_object_or_404(
        OnCallOverride.objects.select_related("user", "schedule__team"),
        pk=override_id,
        schedule=schedule,
    )
    try:
        actions.remove_override(request.user, override)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    messages.success(request, "Override removed.")
    url = reverse("sla:rotation", args=[schedule.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
