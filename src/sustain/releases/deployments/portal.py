"""The customer portal's environments: what runs where, the available updates, their release
notes, and which of them fix problems the organization reported."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render

from sustain.cmdb.models import ConfigItem
from sustain.core.http import AuthedRequest
from sustain.core.tenancy import visible
from sustain.releases.deployments import installbase
from sustain.releases.models import Deployment

# A customer runs a handful of environments; the page lists them all (with a cap).
MAX_ENVIRONMENTS = 200


def _environments(request: AuthedRequest) -> QuerySet[ConfigItem]:
    return (
        visible(ConfigItem.objects.filter(product__isnull=False), request.user)
        .exclude(status=ConfigItem.Status.RETIRED)
        .select_related("organization", "product", "version")
        .order_by("product__name", "name", "id")
    )


@login_required
def environment_list(request: AuthedRequest) -> HttpResponse:
    rows = []
    for environment in _environments(request)[:MAX_ENVIRONMENTS]:
        updates = installbase.pending_updates(environment)
        rows.append(
            {
                "environment": environment,
                "updates": updates,
                "latest": updates[-1].release if updates else None,
                "reported": sorted(
                    {b.key: b for u in updates for b in u.reported}.values(), key=lambda b: b.pk
                ),
            }
        )
    return render(request, "portal/environments.html", {"rows": rows})


@login_required
def environment_detail(request: AuthedRequest, environment_id: int) -> HttpResponse:
    # The same items as the list: what runs a product and is not retired (a server is no
    # environment with versions and updates).
    environment = _environments(request).filter(pk=environment_id).first()
    if environment is None:
        raise Http404(f"No environment {environment_id}.")
    deployments = visible(
        Deployment.objects.filter(environment=environment).select_related("release__version"),
        request.user,
    ).order_by("-id")[:20]
    return render(
        request,
        "portal/environment.html",
        {
            "environment": environment,
            "updates": installbase.pending_updates(environment),
            "deployments": deployments,
        },
    )
