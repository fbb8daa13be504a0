from django.contrib import admin

from sustain.cmdb.models import Component, ConfigItem, Product, Relation, Version


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
