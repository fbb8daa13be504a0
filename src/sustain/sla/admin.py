from django.contrib import admin

from sustain.sla.models import Calendar, Clock, Holiday, Policy, Target


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "always", "organization"]
    inlines = [HolidayInline]


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "active", "calendar", "organization", "kind", "priority"]
    list_editable = ["order", "active"]
    inlines = [TargetInline]


@admin.register(Clock)
class ClockAdmin(admin.ModelAdmin):
    list_display = ["ticket", "metric", "state", "due_at", "met_at", "breached_at"]
    list_filter = ["metric", "state"]
    raw_id_fields = ["ticket"]
    show_full_result_count = False
