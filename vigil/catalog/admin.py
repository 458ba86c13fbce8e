from django.contrib import admin

from .models import HostingProvider, Service


@admin.register(HostingProvider)
class HostingProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "support_url", "support_email", "support_phone"]
    search_fields = ["name"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "team", "hosting_provider", "monthly_approved_hours"]
    list_filter = ["team", "hosting_provider"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
