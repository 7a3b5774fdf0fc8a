from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from tickets.aggregates import register_sqlite_functions
        from tickets.append_only import reestablish_after_migrate

        connection_created.connect(register_sqlite_functions, dispatch_uid="tickets.sqlite_functions")
        # After every migrate: the interaction log's triggers, which a migration may have dropped.
        post_migrate.connect(reestablish_after_migrate, sender=self, dispatch_uid="tickets.append_only")
