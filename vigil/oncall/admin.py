from django.contrib import admin

from .models import EscalationPolicy, Layer, LayerMember, Override, Schedule


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "repeat"]
    list_filter = ["team"]


class LayerMemberInline(admin.TabularInline):
    model = LayerMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Layer)
class LayerAdmin(admin.ModelAdmin):
    list_display = ["name", "schedule", "order", "rotation", "handoff_time", "start"]
    list_filter = ["schedule__team"]
    inlines = [LayerMemberInline]


class LayerInline(admin.TabularInline):
    model = Layer
    extra = 0
    fields = ["name", "order", "start", "rotation", "handoff_time", "restrict_days", "restrict_start", "restrict_end"]
    show_change_link = True


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "time_zone", "calendar_token_hint"]
    list_filter = ["team"]
    # The token's hash is useless to read and dangerous to edit: rotate it from the schedule page.
    exclude = ["calendar_token_hash"]
    readonly_fields = ["calendar_token_hint"]
    inlines = [LayerInline]

    def save_model(self, request, obj, form, change):
        if not obj.calendar_token_hash:
            obj.set_calendar_token()  # its URL is never shown here: an admin of the team rotates it
        super().save_model(request, obj, form, change)


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):
    list_display = ["schedule", "user", "start", "end", "covers", "created_by"]
    list_filter = ["schedule__team"]
    raw_id_fields = ["user", "covers", "created_by"]
