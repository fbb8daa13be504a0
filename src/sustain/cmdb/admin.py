from django.contrib import admin

from sustain.cmdb.models import (
    Component,
    ConfigDocument,
    ConfigItem,
    ConfigVersion,
    Drift,
    Product,
    Relation,
    Version,
)


class ComponentInline(admin.TabularInline):
    model = Component
    extra = 0


class VersionInline(admin.TabularInline):
    model = Version
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [ComponentInline, VersionInline]


class RelationInline(admin.TabularInline):
    model = Relation
    fk_name = "source"
    extra = 0
    raw_id_fields = ["target"]


@admin.register(ConfigItem)
class ConfigItemAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "organization", "product", "version", "status"]
    list_filter = ["kind", "status", "organization"]
    search_fields = ["name"]
    list_select_related = ["organization", "product", "version"]
    inlines = [RelationInline]


class ConfigVersionInline(admin.TabularInline):
    """Versions are history: shown, never edited (a rollback is a new version)."""

    model = ConfigVersion
    extra = 0
    can_delete = False
    fields = ["number", "message", "author", "restored_from", "created_at"]
    readonly_fields = ["number", "message", "author", "restored_from", "created_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConfigDocument)
class ConfigDocumentAdmin(admin.ModelAdmin):
    list_display = ["name", "item", "format", "observed_at"]
    list_filter = ["format"]
    search_fields = ["name", "item__name"]
    raw_id_fields = ["item"]
    readonly_fields = ["observed_text", "observed_at"]
    inlines = [ConfigVersionInline]


@admin.register(Drift)
class DriftAdmin(admin.ModelAdmin):
    list_display = ["item", "document", "kind", "since", "cleared_at"]
    list_filter = ["kind"]
    raw_id_fields = ["item", "document", "ticket"]
