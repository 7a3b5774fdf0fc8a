from django.apps import AppConfig
from django.db.backends.signals import connection_created


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from tickets.aggregates import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="tickets.sqlite_functions")
