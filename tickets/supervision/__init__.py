"""What supervisors read: promises in danger now (``now``), who keeps their word over a period
(``figures``), the forms that choose a period and a figure (``forms``), and safe CSV (``exports``).

Reads only: every change a supervisor makes from the dashboard goes through ``tickets.services``.
"""
