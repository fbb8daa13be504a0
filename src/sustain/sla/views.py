"""SLA pages for agents: calendars with the what-if due date, on-call now, one's pages."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from sustain.core import businesstime, instants
from sustain.core.access import agent_required
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.sla import config
from sustain.sla.models import Calendar, Policy, Target
from sustain.sla.setup_views import progress_context


def _skipped_visible(request: AuthedRequest) -> list[config.Skipped]:
    """The skipped rows the viewer may know of (another customer's calendar stays unnamed)."""
    skipped = config.current().skipped
    if not skipped or request.user.is_manager:
        return skipped
    calendars = set(visible(Calendar.objects.all(), request.user).values_list("id", flat=True))
    policies = set(visible(Policy.objects.all(), request.user).values_list("id", flat=True))
    targets = set(Target.objects.filter(policy_id__in=policies).values_list("id", flat=True))
    seen = {"calendar": calendars, "policy": policies, "target": targets}
    return [s for s in skipped if s.pk in seen.get(s.kind, set())]


@agent_required
def calendars(request: AuthedRequest) -> HttpResponse:
    """Calendars and policies, and the rows the SLA configuration had to skip (and why)."""
    return render(
        request,
        "sla/calendars.html",
        {
            "skipped": _skipped_visible(request),
            "calendars": visible(
                Calendar.objects.select_related("organization").prefetch_related("holidays"),
                request.user,
            ),
            "policies": visible(
                Policy.objects.select_related(
                    "calendar", "organization", "product", "config_item"
                ).prefetch_related("targets"),
                request.user,
            ),
            "recompute": progress_context(),
        },
    )


@agent_required
def calendar(request: AuthedRequest, calendar_id: int) -> HttpResponse:
    """The calendar, and "when is N business minutes after T?" answered in place."""
    found = get_object_or_404(visible(Calendar.objects.all(), request.user), pk=calendar_id)
    context: dict = {"calendar": found, "holidays": found.holidays.all()}
    start_text, minutes_text = request.GET.get("start", ""), request.GET.get("minutes", "")
    try:
        schedule = config.current().calendar_schedule(found)
    except businesstime.ScheduleError as exc:
        context["problem"], start_text = str(exc), ""  # a row bad behind validation's back
    if start_text and minutes_text:
        try:
            start = instants.parse_datetime(start_text)
            if timezone.is_naive(start):
                start = timezone.make_aware(start, schedule.zone)
            minutes = int(minutes_text)
            if minutes < 0:
                raise ValueError("negative")
            context["due"] = businesstime.add(schedule, start, minutes * 60)
            context["start"] = start
        except (ValueError, businesstime.ScheduleError) as exc:
            context["error"] = f"Give a start time and a whole number of minutes ({exc})."
    template = "sla/_whatif.html" if request.htmx else "sla/calendar.html"
    return render(request, template, context, status=422 if "error" in context else 200)
