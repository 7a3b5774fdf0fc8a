"""``manage.py backtest_promises``: a history file in, the figures out; bad input refused with a clear message."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

HEADER = "reference,opened_at,resolved_at,priority,category,team,highest_level,waiting_on_customer_seconds\n"
START = datetime(2025, 1, 6, tzinfo=UTC)


@pytest.fixture
def history(tmp_path) -> Path:
    """600 tickets over 90 days, two priorities, log-normal durations, a few still open at the end."""
    rng = random.Random(18)
    end = START + timedelta(days=90)
    lines = [HEADER]
    for i in range(600):
        opened = START + timedelta(days=rng.random() * 90)
        priority = "High" if i % 3 == 0 else "Normal"
        resolved = opened + timedelta(hours=rng.lognormvariate(0, 1) * (4 if priority == "High" else 20))
        done = resolved.isoformat() if resolved < end else ""
        lines.append(f"T-{i},{opened.isoformat()},{done},{priority},Billing,,,0\n")
    path = tmp_path / "history.csv"
    path.write_text("".join(lines))
    return path


def run(*args: str) -> str:
    out = StringIO()
    call_command("backtest_promises", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_replay_prints_kept_by_moment_priority_week_and_fallback_and_writes_json_and_a_chart(history, tmp_path):
    output = run(str(history), "--warmup-days", "28", "--json", str(tmp_path / "f.json"), "--chart",
                 str(tmp_path / "c.svg"))  # fmt: skip

    assert "Replayed 600 tickets; promises counted from 2025-02-03" in output
    for label in ("at opening", "at 1 hour", "at 1 day", "first rule", "By priority", "High", "Normal", "By week"):
        assert label in output
    data = json.loads((tmp_path / "f.json").read_text())
    for moment in ("at_opening", "at_1_hour", "at_1_day"):
        assert set(data[moment]) == {"kept_pct", "promises", "median_promise_hours"}
        assert data[moment]["promises"] > 0
    assert set(data["by_priority"]) == {"High", "Normal"}
    assert all(set(group) == {"kept_pct", "promises"} for group in data["by_priority"].values())
    assert 65 <= data["at_opening"]["kept_pct"] <= 95  # a small sample around the 80 % target
    assert (tmp_path / "c.svg").read_text().startswith("<svg")


def test_from_leaves_earlier_promises_out_of_the_figures(history, tmp_path):
    run(str(history), "--from", "2025-03-01", "--json", str(tmp_path / "f.json"))

    data = json.loads((tmp_path / "f.json").read_text())
    assert data["counted_from"].startswith("2025-03-01T00:00:00")
    assert min(data["by_week"]) >= "2025-W09"


def test_a_column_mapping_reads_other_headers(tmp_path):
    path = tmp_path / "other.csv"
    rows = ["Opened,Closed,Impact,Product\n"]
    for i in range(80):
        opened = START + timedelta(hours=6 * i)
        rows.append(f"{opened.isoformat()},{(opened + timedelta(hours=1 + i % 7)).isoformat()},Low,P1\n")
    path.write_text("".join(rows))

    output = run(str(path), "--map", "opened_at=Opened", "--map", "resolved_at=Closed", "--map",
                 "priority=Impact", "--map", "category=Product", "--warmup-days", "7")  # fmt: skip

    assert "Replayed 80 tickets" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map", "priority"], "--map 'priority': write it as ours=theirs"),
        (["--from", "next tuesday"], "--from 'next tuesday': give a date or time in ISO 8601"),
        (["--percentile", "1.5"], "--percentile must be between 0.5 and 0.99."),
        (["--warmup-days", "-1"], "--warmup-days can't be negative."),
        (["--warmup-days", "400"], "No promises to count"),
    ],
)
def test_bad_options_are_refused_clearly(history, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(str(history), *args)


def test_a_missing_file_and_bad_rows_are_refused_naming_each_row(tmp_path):
    with pytest.raises(CommandError, match="No such file or directory"):
        run(str(tmp_path / "missing.csv"))

    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER
        + "A,2025-01-01T09:00:00+00:00,2025-01-01T08:00:00+00:00,Low,X,,,0\n"
        + "B,2025-01-01T09:00:00,,Low,X,,,0\n"
    )
    with pytest.raises(CommandError) as refused:
        run(str(path))
    message = str(refused.value)
    assert "2 bad rows, nothing replayed" in message
    assert "line 2, resolved_at:" in message and "line 3, opened_at:" in message


def test_a_replay_in_business_time_names_its_calendar_and_counts_open_hours(history, tmp_path):
    elapsed = run(str(history), "--warmup-days", "28", "--json", str(tmp_path / "elapsed.json"))
    output = run(str(history), "--warmup-days", "28", "--hours", "09:00-17:00", "--zone", "Europe/Berlin",
                 "--holidays", "de-by", "--json", str(tmp_path / "office.json"))  # fmt: skip

    assert (
        "In business time: 09:00-17:00 Mon-Fri, Europe/Berlin, closed on the public holidays of DE-BY; "
        "promises in open hours." in output
    )
    assert "In business time" not in elapsed
    office, clock = (json.loads((tmp_path / name).read_text()) for name in ("office.json", "elapsed.json"))
    assert office["business_time"].startswith("09:00-17:00 Mon-Fri") and clock["business_time"] is None
    # 8 open hours a day, 5 days a week: promises in open hours are shorter than by the clock.
    assert office["at_opening"]["median_promise_hours"] < clock["at_opening"]["median_promise_hours"] / 2


def test_weekdays_may_run_over_the_weekend_or_be_listed(history):
    output = run(str(history), "--hours", "08:00-12:00, 13:00-16:00", "--zone", "Asia/Dubai", "--weekdays", "sun-thu")
    assert "In business time: 08:00-12:00, 13:00-16:00 Sun-Thu, Asia/Dubai; " in output

    output = run(str(history), "--hours", "09:00-17:00", "--zone", "UTC", "--weekdays", "Monday,wed,fri-sat")
    assert "In business time: 09:00-17:00 Mon,Wed,Fri-Sat, UTC; " in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--zone", "Europe/Berlin"], "--zone: business hours need --hours too, e.g. --hours 09:00-17:00."),
        (["--weekdays", "mon-fri", "--holidays", "DE"], "--weekdays, --holidays: business hours need --hours too"),
        (["--hours", "09:00-17:00"], "--hours needs --zone, the time zone they are kept in"),
        (["--hours", "9 to 5", "--zone", "UTC"], "--hours: write open hours as 09:00-17:00"),
        (["--hours", "09:00-25:00", "--zone", "UTC"], "--hours: 09:00-25:00 is not a time of day"),
        (["--hours", "closed", "--zone", "UTC"], "--hours 'closed': These hours are never open"),
        (["--hours", "09:00-17:00", "--zone", "Europe/Berln"], "--zone: 'Europe/Berln' is not a time zone; use a name"),
        (["--hours", "09:00-17:00", "--zone", "UTC", "--weekdays", "weekdays"], "--weekdays 'weekdays': name days as"),
        (["--hours", "09:00-17:00", "--zone", "UTC", "--weekdays", "mon-wed-fri"], "--weekdays 'mon-wed-fri'"),
        (["--hours", "09:00-17:00", "--zone", "UTC", "--holidays", "XX"], "--holidays 'XX': We have no public holi"),
        (["--hours", "09:00-17:00", "--zone", "UTC", "--holidays", "DE-XX"], "--holidays 'DE-XX': DE has no subdiv"),
    ],
)
def test_a_bad_calendar_is_refused_clearly(history, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run(str(history), *args)
