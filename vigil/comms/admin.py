from django.contrib import admin

from .models import Message, Stakeholder, StakeholderUpdate


@admin.register(Stakeholder)
class StakeholderAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "group", "kind", "display_address"]
    list_filter = ["group", "kind"]
    search_fields = ["name"]
    exclude = ["address"]  # Apprise URLs carry tokens


@admin.register(StakeholderUpdate)
class StakeholderUpdateAdmin(admin.ModelAdmin):
    list_display = ["incident", "status", "posted_by", "posted_at"]
    readonly_fields = ["incident", "status", "body", "posted_by", "posted_at"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "state", "attempts", "incident", "created_at"]
    list_filter = ["state", "kind"]
    readonly_fields = ["incident", "update", "stakeholder", "user", "contact_method", "recipient", "kind", "subject",
                       "text", "idempotency_key", "attempts", "sent_at", "last_error", "created_at"]
    exclude = ["address"]
