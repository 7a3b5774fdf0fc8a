"""A replay's figures: kept % by moment, priority, category, week and fallback, as JSON, text and a chart."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from tickets.estimates.backtest import MOMENTS, Promised, Replay, as_datetime, counted
from tickets.estimates.estimator import HOUR

TOP_CATEGORIES = 10


def _kept(promises: list[Promised]) -> dict[str, Any]:
    kept = sum(1 for p in promises if p.kept)
    return {"kept_pct": round(100 * kept / len(promises), 1) if promises else None, "promises": len(promises)}


def _moment(promises: list[Promised]) -> dict[str, Any]:
    median = statistics.median(p.promised for p in promises) / HOUR if promises else None
    return {**_kept(promises), "median_promise_hours": round(median, 1) if median is not None else None}


def _by(promises: Iterable[Promised], key: Callable[[Promised], str]) -> dict[str, list[Promised]]:
    groups: dict[str, list[Promised]] = defaultdict(list)
    for promise in promises:
        groups[key(promise)].append(promise)
    return groups


def _week(promise: Promised) -> str:
    year, week, _ = as_datetime(promise.made_at).isocalendar()
    return f"{year}-W{week:02d}"


def figures(replay: Replay, *, target: float, business_time: str | None = None) -> dict[str, Any]:
    """The figures of a replay (the keys ``backtest_promises --json`` writes); ``business_time`` names the
    calendar a replay in business time ran in (its promises and their medians are then business hours)."""
    promises = counted(replay.promises)
    by_moment = _by(promises, lambda p: p.moment)
    by_category = _by(promises, lambda p: p.category)
    top = [name for name, _ in Counter({k: len(v) for k, v in by_category.items()}).most_common(TOP_CATEGORIES)]
    by_basis = _by(promises, lambda p: p.basis)
    previous = counted(replay.previous)
    return {
        "target_pct": round(100 * target, 1),
        "business_time": business_time,
        "tickets": replay.tickets,
        "counted_from": as_datetime(replay.first_counted).isoformat(),
        "promises": len(promises),
        **{moment: _moment(by_moment.get(moment, [])) for moment, _ in MOMENTS},
        "by_priority": {name: _kept(group) for name, group in sorted(_by(promises, lambda p: p.priority).items())},
        "by_category": {name: _kept(by_category[name]) for name in top},
        "by_week": {name: _kept(group) for name, group in sorted(_by(promises, _week).items())},
        "fallbacks": {
            basis: {**_kept(group), "share_pct": round(100 * len(group) / len(promises), 1)}
            for basis, group in sorted(by_basis.items())
        },
        "previous_rule": {moment: _moment(group) for moment, group in _by(previous, lambda p: p.moment).items()},
    }


def _line(label: str, figure: dict[str, Any], target: float) -> str:
    if not figure["promises"]:
        return f"  {label:<28} no promises"
    kept = figure["kept_pct"]
    mark = "" if abs(kept - target) <= 5 else ("  above target" if kept > target else "  BELOW target")
    median = f"   median promise {figure['median_promise_hours']:>8.1f} h" if "median_promise_hours" in figure else ""
    return f"  {label:<28} kept {kept:5.1f} % of {figure['promises']:>7,}{median}{mark}"


def text(data: dict[str, Any]) -> str:
    """The report the command prints."""
    target = data["target_pct"]
    lines = [
        f"Replayed {data['tickets']:,} tickets; promises counted from {data['counted_from'][:16]} "
        f"({data['promises']:,}); target: kept {target:g} %.",
        *([f"In business time: {data['business_time']}; promises in open hours."] if data.get("business_time") else []),
        "",
        "By moment",
        *(_line(moment.replace("_", " "), data[moment], target) for moment, _ in MOMENTS),
    ]
    for moment, _ in MOMENTS:
        if moment in data["previous_rule"]:
            label = f"{moment.replace('_', ' ')}, first rule"
            lines.append(_line(label, data["previous_rule"][moment], target))
    for title, key in (("By priority", "by_priority"), ("By category (top 10)", "by_category")):
        lines += ["", title, *(_line(name, figure, target) for name, figure in data[key].items())]
    lines += ["", "By week", *(_line(name, figure, target) for name, figure in data["by_week"].items())]
    lines += ["", "Which estimate served"]
    lines += [
        f"  {basis:<28} {figure['share_pct']:5.1f} % of promises, kept {figure['kept_pct']:5.1f} %"
        for basis, figure in data["fallbacks"].items()
    ]
    return "\n".join(lines)


def chart_svg(data: dict[str, Any], *, width: int = 900, height: int = 360) -> str:
    """Calibration over time: each week's kept % (dot size by promises) against the target and its ±5
    band, then kept % by priority; a standalone SVG."""
    left, top, bottom = 50, 30, 40
    plot_w, plot_h = width - left - 20, height - top - bottom
    weeks = list(data["by_week"].items())

    def y(pct: float) -> float:
        return top + plot_h * (1 - pct / 100)

    target = data["target_pct"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="11">',
        f'<text x="{left}" y="18" font-size="13">Promises kept by week, against the target '
        f"({target:g} %, band ±5)</text>",
        f'<rect x="{left}" y="{y(target + 5):.1f}" width="{plot_w}" height="{y(target - 5) - y(target + 5):.1f}" '
        'fill="#d1e7dd"/>',
        f'<line x1="{left}" x2="{left + plot_w}" y1="{y(target):.1f}" y2="{y(target):.1f}" stroke="#198754"/>',
    ]
    for pct in range(0, 101, 20):
        parts.append(f'<text x="{left - 8}" y="{y(pct) + 4:.1f}" text-anchor="end">{pct}</text>')
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(pct):.1f}" y2="{y(pct):.1f}" stroke="#eee"/>')
    most = max((figure["promises"] for _, figure in weeks), default=1)
    for i, (name, figure) in enumerate(weeks):
        x = left + plot_w * (i + 0.5) / max(len(weeks), 1)
        r = 2 + 4 * (figure["promises"] / most) ** 0.5
        colour = "#198754" if abs(figure["kept_pct"] - target) <= 5 else "#dc3545"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y(figure["kept_pct"]):.1f}" r="{r:.1f}" fill="{colour}">'
            f"<title>{escape(name)}: kept {figure['kept_pct']} % of {figure['promises']}</title></circle>"
        )
        if len(weeks) <= 20 or i % max(len(weeks) // 12, 1) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 22}" text-anchor="middle">{escape(name)}</text>')
    summary = "  ".join(
        f"{moment.replace('_', ' ')}: {data[moment]['kept_pct']} %" for moment, _ in MOMENTS if data[moment]["promises"]
    )
    priorities = "  ".join(f"{escape(name)}: {figure['kept_pct']} %" for name, figure in data["by_priority"].items())
    parts.append(f'<text x="{left}" y="{height - 6}">{escape(summary)}   |   {priorities}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
