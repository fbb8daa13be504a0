"""Staff pages: the install base (/environments/) and one environment with its deployments,
pending updates and the controls to schedule and move deployments (htmx)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from sustain.accounts.models import Organization
from sustain.cmdb.models import ConfigItem, Product
from sustain.core import htmx
from sustain.core.access import agent_required
from sustain.core.errors import ActionError
from sustain.core.http import AuthedRequest
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible
from sustain.releases.deployments import actions, installbase
from sustain.releases.models import Deployment, Release, Status

PAGE_SIZE = 50
HISTORY = 50


class ScheduleForm(forms.Form):
    release = forms.IntegerField()
    scheduled_for = forms.DateTimeField(required=False)
    note = forms.CharField(required=False, max_length=actions.NOTE_MAX)


class MoveForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s, s) for s in Deployment.Status.values if s != Deployment.Status.SCHEDULED]
    )
    reason = forms.CharField(required=False, max_length=5000)


def _environment(request: AuthedRequest, environment_id: int) -> ConfigItem:
    item = (
        visible(
            ConfigItem.objects.select_related("organization", "product", "version"), request.user
        )
        .filter(pk=environment_id)
        .first()
    )
    if item is None:
        raise Http404(f"No environment {environment_id}.")
    return item


@agent_required
def environment_list(request: AuthedRequest) -> HttpResponse:
    """Everything that runs a product, with its version and how many releases it is behind."""
    qs = visible(
        ConfigItem.objects.filter(product__isnull=False).select_related(
            "organization", "product", "version"
        ),
        request.user,
    ).exclude(status=ConfigItem.Status.RETIRED)
    q = request.GET.get("q", "").strip()[:200]
    product = request.GET.get("product", "").strip()
    organization = request.GET.get("organization", "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(organization__name__icontains=q))
    if product:
        qs = qs.filter(product__slug=product)
    if organization:
        qs = qs.filter(organization__slug=organization)
    error = ""
    try:
        rows, next_url = paginate(
            request, qs, order=("id",), limit=PAGE_SIZE, cursor=request.GET.get("cursor")
        )
    except ActionError as exc:
        rows, next_url, error = [], None, exc.message
    behind = installbase.behind_counts(rows)
    for row in rows:
        row.behind = behind.get(row.pk)
    return render(
        request,
        "releases/deployments/environments.html",
        {
            "rows": rows,
            "next_url": next_url,
            "q": q,
            "product": product,
            "organization": organization,
            "products": Product.objects.all(),
            "organizations": visible(Organization.objects.customers(), request.user),
            "error": error,
        },
        status=422 if error else 200,
    )


def _detail_context(request: AuthedRequest, environment: ConfigItem, **extra: Any) -> dict:
    deployments = list(
        Deployment.objects.filter(environment=environment)
        .select_related("release__version", "previous_version", "created_by")
        .order_by("-id")[:HISTORY]
    )
    for d in deployments:
        d.moves = actions.offered_moves(d, deployments)  # type: ignore[attr-defined]
    deployable = (
        Release.objects.filter(
            product=environment.product,
            status__in=sorted(actions.deployable_statuses(environment)),
        )
        .select_related("version")
        .order_by("-version__major", "-version__minor", "-version__patch", "-id")
    )
    return {
        "environment": environment,
        "deployments": deployments,
        "updates": installbase.pending_updates(environment),
        "deployable": deployable,
        "release_statuses": Status,
        **extra,
    }


@agent_required
def environment_detail(request: AuthedRequest, environment_id: int) -> HttpResponse:
    environment = _environment(request, environment_id)
    return render(
        request, "releases/deployments/environment.html", _detail_context(request, environment)
    )


def _answer(request: AuthedRequest, environment: ConfigItem, error: str = "") -> HttpResponse:
    """After a change: the deployments section again (htmx), or the page."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("environments:detail", environment_id=environment.pk)
    environment = _environment(request, environment.pk)  # the version may have moved
    return render(
        request,
        "releases/deployments/_answer.html",
        _detail_context(request, environment, error=error),
        status=422 if error else 200,
    )


@agent_required
@require_POST
def schedule(request: AuthedRequest, environment_id: int) -> HttpResponse:
    environment = _environment(request, environment_id)

    def apply(data: dict[str, Any]) -> Any:
        release = Release.objects.filter(pk=data["release"]).first()
        if release is None:
            raise ActionError("release: no such release.")
        return actions.schedule_deployment(
            request.user,
            release=release,
            environment=environment,
            scheduled_for=data["scheduled_for"],
            note=data["note"],
        )

    return htmx.run(
        ScheduleForm(request.POST), apply, lambda error: _answer(request, environment, error)
    )


@agent_required
@require_POST
def move(request: AuthedRequest, deployment_id: int) -> HttpResponse:
    deployment = (
        visible(Deployment.objects.select_related("environment", "release"), request.user)
        .filter(pk=deployment_id)
        .first()
    )
    if deployment is None:
        raise Http404(f"No deployment {deployment_id}.")
    environment = _environment(request, deployment.environment_id)
    return htmx.run(
        MoveForm(request.POST),
        lambda data: actions.transition(
            request.user, deployment, data["status"], reason=data["reason"]
        ),
        lambda error: _answer(request, environment, error),
    )
