"""The REST API (version 1, under ``/api/v1/``): everything the desk does, for integrations.

The API is another face of the same rules: its views parse JSON with serializers, look tickets up through
``Ticket.objects.visible_to`` and call the same ``tickets.services`` the desk's forms call, so an action
leaves the same trail in the interaction log whichever way it came.

Modules: ``errors`` (the one error format), ``access`` (tokens, sign-in and who may do what),
``pagination`` (cursor pages for tickets, numbered pages elsewhere), ``schema`` (the OpenAPI extras),
``fields`` (shared serializer fields), ``serializers`` (what the ticket endpoints read and write), ``rows``
(the ticket lists' JSON, built fast), then one module per area: ``tickets``, ``configuration``,
``supervision``, ``notifications``; the customers' live in ``customers.api`` and the public ones in
``customers.public_api``.
"""
