"""The settings page where everyone chooses what they are told, and how."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from sustain.core.errors import ActionError
from sustain.core.forms import add_action_error
from sustain.core.http import AuthedRequest
from sustain.notifications import actions
from sustain.notifications.forms import PreferencesForm
from sustain.notifications.models import DigestItem


@login_required
def preferences(request: AuthedRequest) -> HttpResponse:
    user = request.user
    prefs = actions.preferences_of(user)
    initial = {
        **{name: getattr(prefs, name) for name in actions.PREFERENCE_FIELDS},
        "language": user.language,
        "time_zone": user.time_zone,
    }
    form = PreferencesForm(request.POST or None, initial=initial, customer=user.is_customer)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.update_preferences(user, user, **form.cleaned_data)
                messages.success(request, "Your notification settings are saved.")
                return redirect("notifications:preferences")
            except ActionError as exc:
                add_action_error(form, exc)
        status = 422
    waiting = DigestItem.objects.filter(user=user, sent_at__isnull=True).count()
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "waiting": waiting},
        status=status,
    )
