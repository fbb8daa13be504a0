"""SLA set-up pages for managers and administrators: business calendars (week grid, zone,
holidays and their import), policies (conditions, targets, order), and the progress of the
recomputation of open tickets' clocks that each change starts.

Thin: parse with sla.forms, call sla.actions (the API's and the admin's functions too),
render. Agents read calendars and policies on the pages of sla.views.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from sustain.core.access import agent_required, manager_required
from sustain.core.errors import ActionError, Invalid
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.sla import actions, recompute
from sustain.sla.forms import (
    DAYS,
    METRICS,
    OFFICE_HOURS,
    CalendarForm,
    HolidayForm,
    HolidayImportForm,
    PolicyForm,
    default_zone,
    parse_week,
    policy_initial,
    show_errors,
    this_year,
    week_grid,
)
from sustain.sla.models import Calendar, Policy, RecomputeRun

RECENT = timedelta(minutes=10)  # a finished run is still reported this long


def _calendar(request: AuthedRequest, calendar_id: int) -> Calendar:
    return get_object_or_404(visible(Calendar.objects.all(), request.user), pk=calendar_id)


def _policy(request: AuthedRequest, policy_id: int) -> Policy:
    return get_object_or_404(visible(Policy.objects.all(), request.user), pk=policy_id)


# --- calendars ------------------------------------------------------------------------------


def _calendar_context(
    request: AuthedRequest,
    found: Calendar | None,
    *,
    form: CalendarForm | None = None,
    grid: list[dict[str, Any]] | None = None,
    holiday_form: HolidayForm | None = None,
    import_form: HolidayImportForm | None = None,
) -> dict[str, Any]:
    if form is None:
        initial = (
            {
                "name": found.name,
                "timezone": found.timezone,
                "always": found.always,
                "organization": found.organization_id,
            }
            if found
            else {"timezone": default_zone(request.user)}
        )
        form = CalendarForm(initial=initial, user=request.user)
    return {
        "calendar": found,
        "form": form,
        "grid": grid or week_grid(None, found.hours if found else OFFICE_HOURS),
        "holidays": found.holidays.all() if found else [],
        "holiday_form": holiday_form or HolidayForm(),
        "import_form": import_form or HolidayImportForm(initial={"year": this_year()}),
        "days": DAYS,
        "recompute": progress_context(),
    }


def _save_calendar(request: AuthedRequest, found: Calendar | None) -> HttpResponse:
    form = CalendarForm(request.POST, user=request.user)
    grid = week_grid(request.POST, None)
    hours = parse_week(grid)
    if form.is_valid() and hours is not None:
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "timezone_name": data["timezone"],
            "hours": hours,
            "always": data["always"],
            "organization": data["organization"],
        }
        try:
            if found is None:
                found = actions.create_calendar(request.user, **fields)
                messages.success(request, f"Calendar {found.name} added.")
            else:
                actions.update_calendar(request.user, found, **fields)
                messages.success(request, f"Calendar {found.name} saved.")
        except ActionError as exc:
            show_errors(form, exc, {"timezone_name": "timezone"})
        else:
            return redirect("sla:calendar_edit", found.pk)
    context = _calendar_context(request, found, form=form, grid=grid)
    return render(request, "sla/calendar_form.html", context, status=422)


@manager_required
def calendar_new(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        return _save_calendar(request, None)
    return render(request, "sla/calendar_form.html", _calendar_context(request, None))


@manager_required
def calendar_edit(request: AuthedRequest, calendar_id: int) -> HttpResponse:
    found = _calendar(request, calendar_id)
    if request.method == "POST":
        return _save_calendar(request, found)
    return render(request, "sla/calendar_form.html", _calendar_context(request, found))


@manager_required
@require_POST
def calendar_delete(request: AuthedRequest, calendar_id: int) -> HttpResponse:
    found = _calendar(request, calendar_id)
    try:
        actions.delete_calendar(request.user, found)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("sla:calendar_edit", found.pk)
    messages.success(request, f"Calendar {found.name} deleted.")
    return redirect("sla:calendars")


def _holiday_list(found: Calendar) -> list[dict[str, Any]]:
    return [{"date": h.date, "name": h.name} for h in found.holidays.all()]


@manager_required
@require_POST
def holiday_add(request: AuthedRequest, calendar_id: int) -> HttpResponse:
    found = _calendar(request, calendar_id)
    form = HolidayForm(request.POST)
    if form.is_valid():
        day, name = form.cleaned_data["date"], form.cleaned_data["name"]
        days = _holiday_list(found)
        try:
            if any(h["date"] == day for h in days):
                raise Invalid(f"{day:%d %b %Y} is already a holiday.", field="date")
            actions.update_calendar(
                request.user, found, holidays=[*days, {"date": day, "name": name}]
            )
        except ActionError as exc:
            show_errors(form, exc, {"holidays": "date"})
        else:
            messages.success(request, f"Holiday {day:%d %b %Y} added.")
            return redirect("sla:calendar_edit", found.pk)
    context = _calendar_context(request, found, holiday_form=form)
    return render(request, "sla/calendar_form.html", context, status=422)


@manager_required
@require_POST
def holiday_remove(request: AuthedRequest, calendar_id: int, day: str) -> HttpResponse:
    found = _calendar(request, calendar_id)
    try:
        gone = date.fromisoformat(day)
    except ValueError:
        gone = None
    days = [h for h in _holiday_list(found) if h["date"] != gone]
    try:
        actions.update_calendar(request.user, found, holidays=days)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Holiday removed.")
    return redirect("sla:calendar_edit", found.pk)


@manager_required
@require_POST
def holiday_import(request: AuthedRequest, calendar_id: int) -> HttpResponse:
    found = _calendar(request, calendar_id)
    form = HolidayImportForm(request.POST)
    if form.is_valid():
        data, added = form.cleaned_data, 0
        try:
            for year in form.years():
                added += actions.import_holidays(
                    request.user,
                    found,
                    country=data["country"],
                    subdivision=data["subdivision"] or "",
                    year=year,
                )
        except ActionError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, f"{added} holiday{'s' if added != 1 else ''} imported.")
            return redirect("sla:calendar_edit", found.pk)
    context = _calendar_context(request, found, import_form=form)
    return render(request, "sla/calendar_form.html", context, status=422)


@manager_required
@require_GET
def regions(request: AuthedRequest) -> HttpResponse:
    """The region <select> for the country chosen (htmx swaps it in when the country changes)."""
    form = HolidayImportForm(initial={"country": request.GET.get("country", "")})
    return render(request, "sla/_regions.html", {"field": form["subdivision"]})


# --- policies -------------------------------------------------------------------------------


def _policy_page(request: AuthedRequest, found: Policy | None) -> HttpResponse:
    if request.method != "POST":
        initial = policy_initial(found) if found else {"active": True}
        form = PolicyForm(initial=initial, user=request.user)
        return _render_policy(request, found, form, 200)
    form = PolicyForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            if found is None:
                fields = form.action_fields()
                fields["order"] = _next_order()
                found = actions.create_policy(request.user, **fields)
                messages.success(request, f"Policy {found.name} added.")
            else:
                actions.update_policy(request.user, found, **form.action_fields())
                messages.success(request, f"Policy {found.name} saved.")
        except ActionError as exc:
            show_errors(form, exc)
        else:
            return redirect("sla:calendars")
    return _render_policy(request, found, form, 422)


def _render_policy(
    request: AuthedRequest, found: Policy | None, form: PolicyForm, status: int
) -> HttpResponse:
    context = {
        "policy": found,
        "form": form,
        "metrics": METRICS,
        "recompute": progress_context(),
    }
    return render(request, "sla/policy_form.html", context, status=status)


def _next_order() -> int:
    last = Policy.objects.order_by("-order").values_list("order", flat=True).first()
    return (last or 0) + 10


@manager_required
def policy_new(request: AuthedRequest) -> HttpResponse:
    return _policy_page(request, None)


@manager_required
def policy_edit(request: AuthedRequest, policy_id: int) -> HttpResponse:
    return _policy_page(request, _policy(request, policy_id))


@manager_required
@require_POST
def policy_delete(request: AuthedRequest, policy_id: int) -> HttpResponse:
    found = _policy(request, policy_id)
    try:
        actions.delete_policy(request.user, found)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("sla:policy_edit", found.pk)
    messages.success(request, f"Policy {found.name} deleted.")
    return redirect("sla:calendars")


@manager_required
@require_POST
def policy_move(request: AuthedRequest, policy_id: int) -> HttpResponse:
    """One place up or down in the order in which policies are tried."""
    found = _policy(request, policy_id)
    ordered = list(visible(Policy.objects.order_by("order", "id"), request.user))
    at = next(i for i, p in enumerate(ordered) if p.pk == found.pk)
    to = at - 1 if request.POST.get("direction") == "up" else at + 1
    if 0 <= to < len(ordered):
        ordered[at], ordered[to] = ordered[to], ordered[at]
        try:
            actions.reorder_policies(request.user, ordered)
        except ActionError as exc:
            messages.error(request, exc.message)
    return redirect("sla:calendars")


# --- recomputation --------------------------------------------------------------------------


def progress_context() -> dict[str, Any]:
    """The runs still going, or else the last one if it ended a moment ago."""
    running = list(recompute.unfinished().order_by("id")[:5])
    last = None
    if not running:
        last = RecomputeRun.objects.filter(finished_at__gte=timezone.now() - RECENT).first()
    return {"running": running, "last": last}


@agent_required
@require_GET
def progress(request: AuthedRequest) -> HttpResponse:
    """What the recomputation of open tickets' clocks has done (polled by htmx while running)."""
    return render(request, "sla/_recompute.html", progress_context())
