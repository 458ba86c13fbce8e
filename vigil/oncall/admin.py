from django.contrib import admin

from .models import EscalationPolicy


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "repeat"]
    list_filter = ["team"]
