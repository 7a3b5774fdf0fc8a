"""The promise engine's own state: the sweep's heartbeat and the figures' snapshot."""

from __future__ import annotations

from django.db import models


class SweepHeartbeat(models.Model):
    """One row per sweeper: when it last ran and what it did. A stale heartbeat is itself an alert."""

    name = models.CharField(max_length=50, unique=True)
    last_run_at = models.DateTimeField()
    looked_at = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} ran at {self.last_run_at:%Y-%m-%d %H:%M:%S}"


class FiguresSnapshot(models.Model):
    """The supervisor figures for a rolling period (the last 7, 30 or 90 days), computed ahead by a periodic
    task so the page reads one row instead of aggregating hundreds of thousands (see supervision.figures)."""

    days = models.PositiveSmallIntegerField(unique=True)
    computed_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0, help_text="How long computing it took.")
    data = models.JSONField()

    def __str__(self) -> str:
        return f"Figures for the last {self.days} days, as of {self.computed_at:%Y-%m-%d %H:%M}"
