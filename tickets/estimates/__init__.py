"""How long tickets really take: the desk's history (its own tickets and an imported past), the survival
estimate the overpromise guard reads, and the backtest that replays a history through the same code.

- ``models``: ``Estimate`` (the compact table the guard reads), ``PastTicket`` and ``HistoryImport``.
- ``survival``: Kaplan-Meier with censoring and late entry, and the time still to run at an age.
- ``estimator``: recent windows that widen, groups and their fallbacks: the one estimate code.
- ``refresh``: the periodic task's part: the desk's history in, the table out.
- ``importer`` and ``backtest``: a history file in, and replayed.
"""
