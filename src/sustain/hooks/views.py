"""Webhook pages for agents: subscriptions, their delivery log, ping and a new secret."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sustain.core.access import agent_required
from sustain.core.errors import ActionError
from sustain.core.forms import add_action_error
from sustain.core.http import AuthedRequest
from sustain.core.pagination import paginate
from sustain.core.tenancy import visible
from sustain.hooks import actions
from sustain.hooks.forms import SubscriptionForm
from sustain.hooks.models import Delivery, Subscription

LOG_PAGE = 50


def _subscription(request: AuthedRequest, subscription_id: int) -> Subscription:
    return get_object_or_404(
        actions.visible_to(request.user).select_related("organization", "owner"),
        pk=subscription_id,
    )


@agent_required
def subscriptions(request: AuthedRequest) -> HttpResponse:
    rows = actions.visible_to(request.user).select_related("organization", "owner")
    return render(request, "hooks/list.html", {"subscriptions": rows})


@never_cache  # the answer may show the new secret: no copy kept by a browser or proxy
@agent_required
def new(request: AuthedRequest) -> HttpResponse:
    form = SubscriptionForm(request.POST or None, user=request.user, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = actions.create_subscription(request.user, **form.cleaned_data)
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            return render(request, "hooks/secret.html", {"subscription": created, "secret": secret})
    status = 422 if request.method == "POST" else 200
    return render(request, "hooks/form.html", {"form": form, "subscription": None}, status=status)


@agent_required
def detail(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    log, next_url = paginate(
        request,
        visible(Delivery.objects.filter(subscription=subscription), request.user),
        order=("-id",),
        limit=LOG_PAGE,
        cursor=request.GET.get("cursor"),
    )
    return render(
        request,
        "hooks/detail.html",
        {"subscription": subscription, "log": log, "next_url": next_url},
    )


@agent_required
def edit(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    initial = {
        "name": subscription.name,
        "url": subscription.url,
        "events": subscription.events,
        "organization": subscription.organization,
        "include_internal": subscription.include_internal,
        "active": subscription.active,
    }
    form = SubscriptionForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_subscription(request.user, subscription, **form.cleaned_data)
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("hooks:detail", subscription.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "hooks/form.html", {"form": form, "subscription": subscription}, status=status
    )


@agent_required
@require_POST
def delete(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    try:
        actions.delete_subscription(request.user, subscription)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("hooks:detail", subscription.pk)
    messages.success(request, f"Deleted {subscription.name}.")
    return redirect("hooks:list")


@agent_required
@require_POST
def ping(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    try:
        actions.ping(request.user, subscription)
        messages.success(request, "Ping queued: its attempt appears in the log below.")
    except ActionError as exc:
        messages.error(request, exc.message)
    return redirect("hooks:detail", subscription.pk)


@never_cache  # the answer shows the new secret
@agent_required
@require_POST
def rotate_secret(request: AuthedRequest, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    try:
        secret = actions.rotate_secret(request.user, subscription)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("hooks:detail", subscription.pk)
    return render(request, "hooks/secret.html", {"subscription": subscription, "secret": secret})
