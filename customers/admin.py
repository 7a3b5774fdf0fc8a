from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from customers.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "preferred_name", "email", "organisation", "tier", "ticket_count", "created_at"]
    list_filter = ["tier"]
    search_fields = ["name", "preferred_name", "email", "organisation", "phone"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return super().get_queryset(request).annotate(ticket_count=Count("tickets"))

    @admin.display(description="Tickets", ordering="ticket_count")
    def ticket_count(self, customer: Customer) -> int:
        return customer.ticket_count  # type: ignore[attr-defined]
