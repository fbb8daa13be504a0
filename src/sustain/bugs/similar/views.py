"""The as-you-type partial: similar open tickets and bugs below a title being written."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sustain.bugs.similar.rank import parse_exclude, suggest
from sustain.core.http import AuthedRequest

MIN_TITLE = 3


@login_required
@require_GET
def suggest_partial(request: AuthedRequest) -> HttpResponse:
    """Answers the title input's htmx call (`?title=…&description=…&exclude=KEY`); a customer
    sees only their own tickets (links to the portal) and the bugs linked to them."""
    title = request.GET.get("title", "").strip()[:300]
    description = request.GET.get("description", "")[:5000]
    exclude_bug, exclude_ticket = parse_exclude(request.GET.get("exclude", "")[:40])
    suggestions = []
    if len(title) >= MIN_TITLE:
        suggestions = suggest(
            request.user,
            title=title,
            description=description,
            exclude_bug=exclude_bug,
            exclude_ticket=exclude_ticket,
        )
    context = {"suggestions": suggestions, "customer": request.user.is_customer}
    return render(request, "similar/_suggestions.html", context)
