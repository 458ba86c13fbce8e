from django.contrib import admin

from .models import Incident, TimelineEntry


class TimelineInline(admin.TabularInline):
    model = TimelineEntry
    extra = 0
    fields = ["at", "kind", "actor", "body"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "team", "service", "severity", "status", "created_at", "is_drill"]
    list_filter = ["status", "severity", "team", "is_drill"]
    search_fields = ["title"]
    # Status and its timestamps move only through the lifecycle, which writes the timeline.
    readonly_fields = ["team", "number", "status", "created_at", "acknowledged_at", "mitigated_at",
                       "resolved_at", "reopened_at", "alert_count"]
    inlines = [TimelineInline]
