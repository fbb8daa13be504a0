"""Threshold-rule pages: the list (each rule's worst state and how many series fire), one rule
in words with the state of each series it matches (level, value, since, its alert and
incident), and for managers the form to make or change one and the pause, resume and delete
buttons. Customers read their own organization's rules and states on the portal's twins of
the list and the rule page (`portal_rules`), never another's: everything goes through
`visible()`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, Count, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from sustain.core.access import agent_required, manager_required
from sustain.core.errors import ActionError
from sustain.core.forms import add_action_error
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.monitoring import rule_eval, rule_text, rules
from sustain.monitoring.models import Alert, PrometheusState, RuleState, ThresholdRule
from sustain.monitoring.rule_forms import RuleForm
from sustain.monitoring.views import button_action

PAGE = 200
STATES = 200
Level = RuleState.Level
LEVELS = [Level.OK, Level.NODATA, Level.WARNING, Level.CRITICAL]  # by rank, worst last
RANK = Case(
    *(When(level=level, then=Value(rank)) for rank, level in enumerate(LEVELS)),
    default=Value(0),
    output_field=IntegerField(),
)


def _rules(request: AuthedRequest) -> QuerySet[ThresholdRule]:
    return visible(
        ThresholdRule.objects.select_related("organization", "prometheus", "source"), request.user
    )


def _rule(request: AuthedRequest, threshold_rule_id: int) -> ThresholdRule:
    return get_object_or_404(_rules(request), pk=threshold_rule_id)


def _summarised(rows: QuerySet[ThresholdRule]) -> QuerySet[ThresholdRule]:
    """Each rule's worst level and its count of firing states, of either kind of state: four
    subqueries in the list's one query."""
    out = rows
    for model, prefix in ((RuleState, "series"), (PrometheusState, "prom")):
        states = model.objects.filter(rule=OuterRef("pk"))
        worst = states.annotate(rank=RANK).order_by("-rank").values("rank")[:1]
        firing = (
            states.exclude(level=Level.OK).values("rule").annotate(n=Count("id")).values("n")[:1]
        )
        out = out.annotate(
            **{
                f"{prefix}_worst": Subquery(worst, output_field=IntegerField()),
                f"{prefix}_firing": Subquery(firing, output_field=IntegerField()),
            }
        )
    return out


def _list(request: AuthedRequest, template: str) -> HttpResponse:
    rows = _rules(request)
    customer = request.GET.get("organization", "")
    if customer:
        rows = rows.filter(organization__slug=customer)
    found = list(_summarised(rows).order_by("organization__name", "name", "id")[:PAGE])
    for row in found:
        rank = max(row.series_worst or 0, row.prom_worst or 0)  # type: ignore[attr-defined]
        row.worst = LEVELS[rank] if (row.series_worst, row.prom_worst) != (None, None) else None  # type: ignore[attr-defined]
        row.firing = (row.series_firing or 0) + (row.prom_firing or 0)  # type: ignore[attr-defined]
    organizations = (
        _rules(request)
        .order_by("organization__name")
        .values_list("organization__slug", "organization__name")
        .distinct()
    )
    return render(
        request,
        template,
        {"rules": found, "customer": customer, "organizations": organizations},
    )


@agent_required
def rule_list(request: AuthedRequest) -> HttpResponse:
    return _list(request, "monitoring/rules.html")


@login_required
def portal_rule_list(request: AuthedRequest) -> HttpResponse:
    return _list(request, "portal/rules.html")


def states_of(rule: ThresholdRule) -> tuple[list[Any], dict[str, int]]:
    """The worst states first (at most STATES), each with its alert (and so its incident);
    the count of states per level."""
    if rule.prometheus_id is not None:
        rows: QuerySet[Any] = PrometheusState.objects.filter(rule=rule)
    else:
        rows = RuleState.objects.filter(rule=rule).select_related("series")
    counts = dict(rows.order_by().values("level").annotate(n=Count("id")).values_list("level", "n"))
    found = list(rows.annotate(rank=RANK).order_by("-rank", "-changed_at", "id")[:STATES])
    for state in found:
        state.fp = (  # the alert's fingerprint, as rule_eval.signal gives it
            state.key if rule.prometheus_id is not None else rule_eval.fingerprint(state.series_id)
        )
    alerts = Alert.objects.filter(
        source_id=rule.source_id, fingerprint__in=[s.fp for s in found]
    ).select_related("ticket")
    by_fp = {a.fingerprint: a for a in alerts}
    for state in found:
        state.alert = by_fp.get(state.fp)
    return found, counts


def _page(request: AuthedRequest, rule: ThresholdRule, template: str) -> HttpResponse:
    states, counts = states_of(rule)
    return render(
        request,
        template,
        {
            "rule": rule,
            "words": rule_text.describe(rule),
            "states": states,
            "counts": [(level, Level(level).label, counts.get(level, 0)) for level in LEVELS],
            "total": sum(counts.values()),
            "shown": STATES,
        },
    )


@agent_required
def rule(request: AuthedRequest, threshold_rule_id: int) -> HttpResponse:
    return _page(request, _rule(request, threshold_rule_id), "monitoring/rule.html")


@login_required
def portal_rule(request: AuthedRequest, threshold_rule_id: int) -> HttpResponse:
    return _page(request, _rule(request, threshold_rule_id), "portal/rule.html")


def _form_page(request: AuthedRequest, form: RuleForm, status: int = 200) -> HttpResponse:
    return render(
        request, "monitoring/rule_form.html", {"form": form, "rule": form.rule}, status=status
    )


@manager_required
def rule_new(request: AuthedRequest) -> HttpResponse:
    form = RuleForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            made = rules.create_rule(
                request.user, form.cleaned_data["organization"], **form.settings()
            )
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, f"Rule {made.name} made: it is evaluated from now on.")
            return redirect("monitoring:rule", made.pk)
    return _form_page(request, form, 422 if request.method == "POST" else 200)


@manager_required
def rule_edit(request: AuthedRequest, threshold_rule_id: int) -> HttpResponse:
    found = _rule(request, threshold_rule_id)
    form = RuleForm(request.POST or None, user=request.user, rule=found)
    if request.method == "POST" and form.is_valid():
        try:
            rules.update_rule(request.user, found, form.settings())
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, f"Rule {found.name} changed.")
            return redirect("monitoring:rule", found.pk)
    return _form_page(request, form, 422 if request.method == "POST" else 200)


def _act(
    request: AuthedRequest, threshold_rule_id: int, act, done: str, after: str | None = None
) -> HttpResponse:
    found = _rule(request, threshold_rule_id)
    return button_action(request, act, found, done, "monitoring:rule", after)


@manager_required
@require_POST
def rule_pause(request: AuthedRequest, threshold_rule_id: int) -> HttpResponse:
    done = "Rule {name} paused: its alerts are resolved and it is not evaluated."
    return _act(request, threshold_rule_id, rules.pause_rule, done)


@manager_required
@require_POST
def rule_resume(request: AuthedRequest, threshold_rule_id: int) -> HttpResponse:
    return _act(request, threshold_rule_id, rules.resume_rule, "Rule {name} resumed.")


@manager_required
@require_POST
def rule_delete(request: AuthedRequest, threshold_rule_id: int) -> HttpResponse:
    done = "Rule {name} deleted."
    return _act(request, threshold_rule_id, rules.delete_rule, done, "monitoring:rules")
