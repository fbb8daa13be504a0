"""The SLA report page: compliance by month with a chart, response times, breaches.

Agents and managers see the customers they serve; a customer sees their own organization."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from sustain.accounts.models import Organization
from sustain.core.errors import ActionError
from sustain.core.http import AuthedRequest
from sustain.core.models import Priority
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible
from sustain.reports import charts, queries
from sustain.sla.models import Metric

BREACH_PAGE_SIZE = 25
DEFAULT_MONTHS = "6"
MONTH_CHOICES = (1, 3, 6, 12, 24, 36)
METRIC_TITLES = dict(Metric.choices)


@login_required
def sla(request: AuthedRequest) -> HttpResponse:
    params = request.GET.copy()
    if params.get("months"):  # the period picker replaces dates given in the address
        params.pop("since", None)
        params.pop("until", None)
    elif not (params.get("since") or params.get("until")):
        params["months"] = DEFAULT_MONTHS
    now = timezone.now()
    context: dict[str, Any] = {
        "params": params,
        "error": "",
        "organizations": visible(Organization.objects.customers(), request.user),
        "priorities": Priority.choices,
        "metrics": [(m.value, m.label) for m in queries.METRIC_ORDER],
        "month_choices": MONTH_CHOICES,
        "zone_name": str(queries.user_zone(request.user)),
        "ticket_url": "portal:ticket" if request.user.is_customer else "desk:ticket",
    }
    try:
        filters = queries.ReportFilters.from_params(params, request.user, now=now)
        clocks, next_url = paginate(
            request,
            queries.breaches(request.user, filters),
            order=queries.BREACH_ORDER,
            limit=BREACH_PAGE_SIZE,
            cursor=params.get("cursor"),
        )
        context["breaches"] = [queries.breach(clock, now) for clock in clocks]
        context["next_url"] = next_url
        if request.htmx and request.htmx.target == "breaches-more":
            return render(request, "reports/_breach_rows.html", context)
        rows = queries.compliance(request.user, filters)
        months = queries.month_labels(rows, filters, now)
        totals = queries.totals(rows)
        context.update(
            rows=rows,
            totals=totals,
            times=queries.times(request.user, filters),
            charts=[
                (
                    METRIC_TITLES[total.metric],
                    charts.stacked_months(
                        METRIC_TITLES[total.metric],
                        months,
                        queries.by_month(rows, total.metric, months),
                    ),
                )
                for total in totals
            ],
        )
    except ActionError as exc:
        context["error"] = exc.message
    status = 422 if context["error"] else 200
    if request.htmx and request.htmx.target == "report":
        return render(request, "reports/_report.html", context, status=status)
    return render(request, "reports/sla.html", context, status=status)
