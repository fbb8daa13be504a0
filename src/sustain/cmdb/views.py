"""Configuration pages for staff: the documents kept (drifting ones first), one document with
its versions, the form for a new version, rollback, ignore rules, and diffs side by side
between any two versions or a version and the observed copy."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from sustain.cmdb import configs, diffs
from sustain.cmdb.forms import DocumentForm, IgnoreForm, VersionForm
from sustain.cmdb.models import ConfigDocument, ConfigItem, Drift
from sustain.core.access import agent_required
from sustain.core.errors import ActionError
from sustain.core.forms import add_action_error
from sustain.core.http import AuthedRequest
from sustain.core.ids import as_id
from sustain.core.tenancy import visible

PAGE = 100


def _documents(request: AuthedRequest):
    return visible(ConfigDocument.objects.select_related("item__organization"), request.user)


def _item(request: AuthedRequest, item_id: int) -> ConfigItem:
    return get_object_or_404(
        visible(ConfigItem.objects.select_related("organization"), request.user), pk=item_id
    )


@agent_required
def documents(request: AuthedRequest) -> HttpResponse:
    rows = _documents(request).order_by("item__organization__name", "item__name", "name")
    drifting = request.GET.get("drift") == "1"
    open_drifts = visible(Drift.objects.filter(cleared_at__isnull=True), request.user)
    if drifting:
        rows = rows.filter(pk__in=open_drifts.values("document_id"))
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    drift_of = {d.document_id: d for d in open_drifts.filter(document_id__in=[r.pk for r in page])}
    for row in page:
        row.open_drift = drift_of.get(row.pk)  # type: ignore[attr-defined]
    version_drifts = open_drifts.filter(kind=Drift.Kind.VERSION).select_related("item")[:PAGE]
    return render(
        request,
        "cmdb/documents.html",
        {"page": page, "drifting": drifting, "version_drifts": version_drifts},
    )


@agent_required
def item_documents(request: AuthedRequest, item_id: int) -> HttpResponse:
    item = _item(request, item_id)
    form = DocumentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = configs.create_document(
                request.user,
                item,
                name=data["name"],
                text=data["text"],
                message=data["message"],
                format=data["format"],
                open_ticket_on_drift=data["open_ticket_on_drift"],
            )
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, f"{made.name} is kept for {item.name}: version 1.")
            return redirect("cmdb:document", made.pk)
    rows = visible(item.documents.all(), request.user).order_by("name")
    drifts = configs.open_drifts([item.pk])[item.pk]
    return render(
        request,
        "cmdb/item_documents.html",
        {"item": item, "documents": rows, "drifts": drifts, "form": form},
        status=422 if request.method == "POST" else 200,
    )


@agent_required
def document(request: AuthedRequest, document_id: int) -> HttpResponse:
    found = get_object_or_404(_documents(request), pk=document_id)
    form = VersionForm(request.POST or None)
    current = configs.latest(found)
    if request.method == "POST" and form.is_valid():
        try:
            made = configs.save_version(
                request.user,
                found,
                text=form.cleaned_data["text"],
                message=form.cleaned_data["message"],
            )
        except ActionError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, f"Version {made.number} of {found.name} saved.")
            return redirect("cmdb:document", found.pk)
    elif request.method != "POST":
        # Admins edit the real text; everyone else cannot see the secrets to keep them.
        form.initial["text"] = current.text if request.user.is_admin else ""
    rules = "\n".join(f"{r['kind']}:{r['pattern']}" for r in found.ignore_rules)
    return render(
        request,
        "cmdb/document.html",
        {
            "document": found,
            "current": current,
            "text": diffs.shown(current.text, request.user),
            "versions": found.versions.select_related("author").defer("text")[:200],
            "drift": found.drifts.filter(cleared_at__isnull=True).select_related("ticket").first(),
            "form": form,
            "ignore_form": IgnoreForm(initial={"rules": rules}),
            "can_edit_text": request.user.is_admin,
        },
        status=422 if request.method == "POST" else 200,
    )


@agent_required
@require_POST
def document_ignore(request: AuthedRequest, document_id: int) -> HttpResponse:
    found = get_object_or_404(_documents(request), pk=document_id)
    form = IgnoreForm(request.POST)
    if form.is_valid():
        try:
            configs.update_document(request.user, found, ignore_rules=form.rules_list())
        except ActionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Ignore rules of {found.name} saved.")
    else:
        messages.error(request, "The ignore rules are too long.")
    return redirect("cmdb:document", found.pk)


@agent_required
@require_POST
def document_rollback(request: AuthedRequest, document_id: int) -> HttpResponse:
    found = get_object_or_404(_documents(request), pk=document_id)
    number = as_id(request.POST.get("number", ""))
    try:
        made = configs.rollback(request.user, found, number=number or 0)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Version {made.number} restores version {number}.")
    return redirect("cmdb:document", found.pk)


@agent_required
def document_diff(request: AuthedRequest, document_id: int) -> HttpResponse:
    found = get_object_or_404(_documents(request), pk=document_id)
    old = as_id(request.GET.get("old", "")) if request.GET.get("old") else None
    new = request.GET.get("new") or None
    try:
        compared = configs.compare(found, old, new, request.user)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("cmdb:document", found.pk)
    return render(request, "cmdb/diff.html", {"document": found, "diff": compared})
