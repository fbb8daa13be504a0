"""Pages that belong to no single app: the front door, the health check, the API's 404."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from sustain.core.http import AuthedRequest


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    """Agents land on their queues, customers on the portal."""
    return redirect("portal:list" if request.user.is_customer else "desk:queue")


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})


def api_not_found(request: HttpRequest) -> JsonResponse:
    """An address under /api/ that names no operation: a 404 in the API's error format."""
    return JsonResponse(
        {"detail": f"No API operation at {request.path}; see /api/docs.", "errors": []},
        status=404,
    )
