"""Admin for the SLA configuration: every save and delete goes through sla.actions.

The forms validate with the models' clean() (the same checks as the API), and the write is
the action's, so the admin records the same events and schedules the same recomputes as the
API. Clocks are records of what happened to tickets: view only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import BadRequest
from django.db.models import Model, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from sustain.core.admin import ReadOnlyAdmin
from sustain.core.errors import ActionError
from sustain.sla import actions
from sustain.sla.models import Calendar, Clock, Holiday, Policy, Target


def _rows(formsets: list[BaseInlineFormSet], model: type[Model], change: bool) -> list[dict] | None:
    """The inline rows that stay after this save; None when the inline was not shown or,
    on a change, left as it was."""
    for formset in formsets:
        if formset.model is model:
            if change and not formset.has_changed():
                return None
            return [
                form.cleaned_data
                for form in formset.forms
                if form.cleaned_data and not form.cleaned_data.get("DELETE")
            ]
    return None


def _adopt(obj: Model, saved: Model) -> None:
    """Make the admin's unsaved instance the row the action created (for its log and redirect)."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db


RECOMPUTING = "Open tickets' clocks follow the change: the SLA page shows the recomputation."


class ThroughActions(admin.ModelAdmin):
    """save_model writes nothing; save_related calls the action once with form and inlines."""

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        pass

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        try:
            self.save_through_action(request, form, formsets, change)
        except ActionError as exc:
            # The form checked what the model can; what is left (a race on the name) is
            # refused as a bad request, and the admin's transaction undoes the rest.
            raise BadRequest(exc.message) from None
        for formset in formsets:
            # The inline rows were handed to the action; the admin's change message reads these.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        messages.info(request, RECOMPUTING)

    def save_through_action(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        raise NotImplementedError

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(ThroughActions):
    list_display = ["name", "timezone", "always", "organization"]
    fields = ["name", "timezone", "always", "hours", "organization"]
    inlines = [HolidayInline]

    def save_through_action(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        holidays = _rows(formsets, Holiday, change)
        days = (
            None
            if holidays is None
            else [{"date": row["date"], "name": row.get("name", "")} for row in holidays]
        )
        fields = {
            "name": data["name"],
            "timezone_name": data["timezone"],
            "hours": data["hours"],
            "always": data["always"],
            "organization": data["organization"],
        }
        if change:
            if days is not None:
                fields["holidays"] = days
            actions.update_calendar(request.user, form.instance, **fields)  # type: ignore[arg-type]
        else:
            saved = actions.create_calendar(request.user, holidays=days, **fields)  # type: ignore[arg-type]
            _adopt(form.instance, saved)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        actions.delete_calendar(request.user, obj)  # type: ignore[arg-type]


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0


@admin.register(Policy)
class PolicyAdmin(ThroughActions):
    list_display = ["name", "order", "active", "calendar", "organization", "kind", "priority"]
    list_editable = ["order", "active"]
    exclude = ["updated_at"]
    inlines = [TargetInline]

    def save_through_action(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        names = form.changed_data if change else form.cleaned_data
        fields = {k: form.cleaned_data[k] for k in names if k in actions.POLICY_FIELDS}
        targets = _rows(formsets, Target, change)
        if targets is not None:
            fields["targets"] = [
                {"priority": t["priority"], "metric": t["metric"], "minutes": t["minutes"]}
                for t in targets
            ]
        if change:
            actions.update_policy(request.user, form.instance, **fields)  # type: ignore[arg-type]
        else:
            _adopt(form.instance, actions.create_policy(request.user, **fields))  # type: ignore[arg-type]

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        actions.delete_policy(request.user, obj)  # type: ignore[arg-type]


@admin.register(Clock)
class ClockAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "metric", "state", "due_at", "met_at", "breached_at"]
    list_filter = ["metric", "state"]
    raw_id_fields = ["ticket"]
    show_full_result_count = False
