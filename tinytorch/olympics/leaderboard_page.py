"""The leaderboard as files: a static HTML page, a CSV and a PNG, and the lines for a terminal.

The page is one file with its picture embedded, so it opens from a disk or an LMS upload
with no server and no internet. Every name and path in it is HTML-escaped: student ids
come from folder names, which a student chose.
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING, Sequence

from tinytorch.olympics.leaderboard import Entry, Event, Rules, standings_csv
from tinytorch.olympics.output import write_all
from tinytorch.olympics.schema import Problem, printable

if TYPE_CHECKING:   # matplotlib is imported only when a picture is drawn: the command line starts faster
    from matplotlib.figure import Figure

__all__ = ["format_leaderboard", "write_leaderboard"]


def _value(event: Event, score: float) -> str:
    if event.name == "Accuracy Contest":
        return f"{score:.4f}"
    if event.name == "Memory Challenge":
        return f"{score:,.0f}"
    return f"{score:.1f}" if event.name != "Extreme Push" else f"{score:.2f}"


def format_leaderboard(events: Sequence[Event], invalid: Sequence[tuple[str, str, list[Problem]]], rules: Rules,
                       top: int = 10) -> list[str]:
    """Each event's first ``top`` places (a tie is marked ``=``), the rules, and every file not ranked."""
    lines = ["Rules: " + "; ".join(rules.describe())]
    for event in events:
        lines += ["", f"{event.name}: {event.figure}, {event.better} is better ({len(event.standings)} ranked)"]
        for s in event.standings[:top]:
            mark = "=" if s.tied else " "
            lines.append(f"  {s.rank:>4}{mark} {printable(s.entry.student):<28} {_value(event, s.score):>12}")
    if invalid:
        lines += ["", f"Not ranked ({len(invalid)} invalid):"]
        lines += [f"  {printable(student)}: {printable(str(problems[0]) if problems else 'not readable')}"
                  + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
                  for student, _, problems in invalid]
    return lines


def _figure_png(entries: Sequence[Entry]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from tinytorch.olympics.plots import draw_class_tradeoff, literal_text, png

    with literal_text():
        fig = Figure(figsize=(7, 4.5), layout="constrained")
        draw_class_tradeoff(fig.add_subplot(), [e.point() for e in entries])
    return png(fig)


def _event_png(event: Event, top: int = 15) -> bytes:
    """The event's first ``top`` places as bars with their 95 % intervals; members of one tie group
    share a colour, so a shared rank is visible at a glance."""
    import matplotlib

    matplotlib.use("Agg")
    from tinytorch.olympics.plots import literal_text, png

    with literal_text():
        return png(_event_figure(event, top))


def _event_figure(event: Event, top: int) -> Figure:
    from matplotlib.figure import Figure

    from tinytorch.olympics.plots import shown_name

    shown = event.standings[:top][::-1]                  # best at the top
    fig = Figure(figsize=(7, 0.6 + 0.28 * max(len(shown), 1)), layout="constrained")
    ax = fig.add_subplot()
    palette = ("#4C72B0", "#DD8452")
    groups = sorted({s.rank for s in shown})
    colors = [palette[groups.index(s.rank) % 2] for s in shown]
    scores = [s.score for s in shown]
    intervals = [event.interval(s.entry) for s in shown]
    errors = [[max(0.0, v - lo) for v, (lo, _) in zip(scores, intervals, strict=True)],
              [max(0.0, hi - v) for v, (_, hi) in zip(scores, intervals, strict=True)]]
    if event.name == "All-Around":
        errors = [[0.0] * len(shown), [0.0] * len(shown)]
    ax.barh(range(len(shown)), scores, xerr=errors, color=colors, capsize=2)
    ax.set_yticks(range(len(shown)), [f"{s.rank}{'=' if s.tied else ''}  {shown_name(s.entry.student)}"
                                      for s in shown], fontsize=7)
    ax.set_xlabel(f"{event.figure}, {event.better} is better (error bars: 95% intervals; = marks a shared rank)")
    ax.set_title(event.name)
    return fig


def _page(events: Sequence[Event], invalid: Sequence[tuple[str, str, list[Problem]]], rules: Rules,
          png: bytes) -> str:
    def e(text: str) -> str:   # control and bidi characters from a folder name shown, not obeyed
        return html.escape(printable(text))
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>TinyTorch Olympics: leaderboard</title>",
             "<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;"
             "margin-bottom:2em}td,th{border-bottom:1px solid #ddd;padding:.2em .8em;text-align:left}"
             "td.num{text-align:right}tr.tie td{background:#f4f4f4}.rules{color:#444}</style></head><body>",
             "<h1>TinyTorch Olympics</h1>",
             '<ul class="rules">' + "".join(f"<li>{e(rule)}</li>" for rule in rules.describe()) + "</ul>",
             '<p>A rank marked = is shared: the measurements cannot tell those submissions apart.</p>',
             f'<img alt="accuracy against latency for the class, Pareto front ringed" '
             f'src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">']
    for event in events:
        parts.append(f"<h2>{e(event.name)}</h2><p>{e(event.figure)}, {e(event.better)} is better; "
                     f"{len(event.standings)} ranked</p>")
        parts.append("<table><tr><th>rank</th><th>student</th><th>" + e(event.figure) + "</th><th>model</th></tr>")
        for s in event.standings:
            parts.append(f'<tr class="{"tie" if s.tied else ""}"><td>{s.rank}{"=" if s.tied else ""}</td>'
                         f"<td>{e(s.entry.student)}</td><td class=\"num\">{e(_value(event, s.score))}</td>"
                         f"<td>{e(s.entry.model)}</td></tr>")
        parts.append("</table>")
    if invalid:
        parts.append(f"<h2>Not ranked ({len(invalid)})</h2><table><tr><th>student</th><th>why</th></tr>")
        parts += [f"<tr><td>{e(student)}</td><td>{'<br>'.join(e(str(p)) for p in problems)}</td></tr>"
                  for student, _, problems in invalid]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_leaderboard(folder: str, entries: Sequence[Entry], events: Sequence[Event],
                      invalid: Sequence[tuple[str, str, list[Problem]]], rules: Rules) -> list[str]:
    """``leaderboard.html``, ``leaderboard.csv``, ``leaderboard_tradeoff.png`` and one
    ``leaderboard_<event>.png`` per event in ``folder``, all or none; the paths.

    Raises :class:`tinytorch.olympics.output.OutputError` when the folder cannot take them.
    """
    png = _figure_png(entries)
    files = {"leaderboard_tradeoff.png": png}
    for event in events:
        files[f"leaderboard_{event.name.lower().replace(' ', '_').replace('-', '_')}.png"] = _event_png(event)
    files["leaderboard.csv"] = standings_csv(events).encode("utf-8")
    files["leaderboard.html"] = _page(events, invalid, rules, png).encode("utf-8")
    return write_all(folder, files)
