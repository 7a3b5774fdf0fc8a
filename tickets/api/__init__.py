"""The REST API (version 1, under ``/api/v1/``): everything the desk does, for integrations.

The API is another face of the same rules: its views parse JSON with serializers, look tickets up through
``Ticket.objects.visible_to`` and call the same ``tickets.services`` the desk's forms call, so an action
leaves the same trail in the interaction log whichever way it came.

Modules: ``access`` (tokens, sign-in and who may do what), ``conflicts`` (a refusal about a ticket's state
is a 409), ``schema`` (the OpenAPI extras), ``fields`` (shared serializer fields), ``serializers`` (what the
ticket endpoints read and write), ``rows`` (the ticket lists' JSON, built fast), then one module per area:
``tickets``, ``configuration``, ``supervision``, ``notifications``. The plumbing every app's API shares
(the base view, the error format, strict input, parsers, pagination, the URLs) is ``helpdesk.api``; the
customers' endpoints live in ``customers.api`` and the public ones in ``customers.public_api``.
"""
