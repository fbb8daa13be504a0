"""The as-you-type partial: similar open tickets and bugs below a title being written."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sustain.bugs.similar.rank import KEY, MAX_TITLE, MIN_TITLE, parse_exclude, suggest
from sustain.core.http import AuthedRequest


@login_required
@require_GET
def suggest_partial(request: AuthedRequest) -> HttpResponse:
    """Answers the title input's htmx call (`?title=…&description=…&exclude=KEY`, and on a
    ticket page `&merge=KEY`); a customer sees only their own tickets (links to the portal) and
    the bugs linked to them."""
    title = request.GET.get("title", "").strip()[:MAX_TITLE]
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
    # On an agent's ticket page, each similar ticket offers to merge that page's ticket into it.
    merge = request.GET.get("merge", "").strip().upper()
    if request.user.is_customer or not KEY.fullmatch(merge):
        merge = ""
    context = {"suggestions": suggestions, "customer": request.user.is_customer, "merge": merge}
    return render(request, "similar/_suggestions.html", context)
