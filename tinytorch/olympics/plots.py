"""Plots of benchmark results: what the numbers look like, drawn the same way everywhere.

The command line writes them as PNG files beside ``results.json`` and the notebook's
widgets redraw them live; both call these functions, which take plain data (dicts of
the results.json format) and draw into matplotlib Axes. Nothing here measures.

* latency distribution: the samples' histogram with p50, p90 and p99 marked (or, for a
  file without raw samples, the percentiles alone);
* trade-off: accuracy against latency, marker area proportional to stored size, with
  the Pareto front (no other point is at least as fast, as small and as accurate);
* waterfall: how each step of an optimization stack moved latency, size and accuracy;
* batch scaling: latency per batch and throughput per sample against batch size, with the
  batch size where throughput reaches 90 % of its peak marked.
"""

from __future__ import annotations

import contextlib
import io
import textwrap
from collections.abc import Iterator
from itertools import pairwise
from typing import Any, Optional, Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

from tinytorch.core.deprecation import warn_renamed
from tinytorch.olympics.output import write_all
from tinytorch.olympics.schema import printable

__all__ = ["draw_latency_distribution", "draw_tradeoff", "draw_waterfall", "draw_batch_scaling",
           "pareto_front", "saturation_batch", "points_from_results", "figures_from_results", "render_figures",
           "save_figures", "shown_name", "literal_text", "png"]

_COLORS = {"baseline": "#4C72B0", "optimized": "#DD8452"}
#: The most characters of a name from a file that a plot draws: a label is for reading, not a store.
LABEL_CHARS = 60


def shown_name(text: Any, limit: int = LABEL_CHARS) -> str:
    """A name from a file as a plot draws it: escapes made visible (one line), cut at ``limit`` characters."""
    shown = printable(str(text))
    return shown if len(shown) <= limit else shown[:limit - 1] + "…"


@contextlib.contextmanager
def literal_text() -> Iterator[None]:
    """Every text drawn inside is taken literally: a name like ``$\\undefined$`` is no mathtext formula.

    Names come from files students wrote; read as markup, one of them could fail the
    drawing of a whole class's page. Tick labels are made when a figure is drawn, so the
    figure is saved inside this context too.
    """
    with matplotlib.rc_context({"text.parse_math": False}):
        yield


def png(figure: Figure) -> bytes:
    """``figure`` as PNG bytes, its text literal."""
    buffer = io.BytesIO()
    with literal_text():
        figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()
_PERCENTILES = (("p50", "median", ":"), ("p90", "p90", "--"), ("p99", "p99", "-."))


def draw_latency_distribution(ax: Axes, latency: dict[str, Any], label: str, color: Optional[str] = None) -> None:
    """Histogram of ``latency['samples_ms']`` (in µs) with p50/p90/p99 lines; percentiles alone without samples."""
    color = color or _COLORS.get(label, "#55A868")
    samples = latency.get("samples_ms")
    data = np.asarray(samples or [], dtype=float) * 1e3
    marks = [latency[key] * 1e3 for _, key, _ in _PERCENTILES]
    # Latency has a long right tail (a scheduler hiccup can take 50× the median): on a
    # logarithmic axis with logarithmic bins the bulk and the tail are both visible. A zero
    # (allowed: a coarse timer can read 0) has no place on a log axis, so then the axis is
    # linear, for this series and for any drawn on the same axis before or after it.
    first = not ax.lines and not ax.patches
    log = min([*data, *marks]) > 0 and (first or ax.get_xscale() == "log")
    if samples:
        bins: int | list[float] = (np.geomspace(data.min(), data.max() * 1.0001, 40).tolist()
                                   if log and data.max() > data.min() else 40)
        ax.hist(data, bins=bins, alpha=0.45, color=color, label=f"{label} (n={len(data)}, max {data.max():.0f} µs)")
    for (name, _, style), value in zip(_PERCENTILES, marks, strict=True):
        ax.axvline(value, color=color, linestyle=style, linewidth=1.4, label=f"{label} {name} {value:.1f} µs")
    ax.set_xscale("log" if log else "linear")
    if log:
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))  # 10, 20, 50, 100, …
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("latency per call at batch 1 (µs" + (", log scale)" if log else ")"))
    ax.set_ylabel("calls" if samples else "")
    ax.set_title("Latency distribution")
    ax.legend(fontsize=7, framealpha=0.8)


def trade_off_point(name: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """One model on the trade-off plots: its name, median latency, stored size and accuracy.

    The latency is the median, and its key says so: ``latency_ms_mean`` is the chapter's
    mean, and the two must not be confused on one page.
    """
    return {"name": name, "latency_ms_median": metrics["latency"]["median"],
            "size_bytes": metrics["model_size_bytes"], "accuracy": metrics["accuracy"],
            "accuracy_ci": (metrics["accuracy_ci"]["low"], metrics["accuracy_ci"]["high"])}


def _median_keyed(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``points``, where a point written with the old key ``latency_ms`` gets ``latency_ms_median``."""
    renamed = []
    for p in points:
        if "latency_ms_median" not in p and "latency_ms" in p:
            warn_renamed("the trade-off point key 'latency_ms'", "'latency_ms_median'", stacklevel=4)
            p = {**p, "latency_ms_median": p["latency_ms"]}
        renamed.append(p)
    return renamed


def pareto_front(points: Sequence[dict[str, Any]]) -> list[int]:
    """Indices of points that no other point dominates (≤ latency, ≤ size, ≥ accuracy, one strictly)."""
    points = _median_keyed(points)
    key = "latency_ms_median"
    front = []
    for i, p in enumerate(points):
        dominated = any(
            q[key] <= p[key] and q["size_bytes"] <= p["size_bytes"] and q["accuracy"] >= p["accuracy"]
            and (q[key], q["size_bytes"], q["accuracy"]) != (p[key], p["size_bytes"], p["accuracy"])
            for j, q in enumerate(points) if j != i)
        if not dominated:
            front.append(i)
    return front


def draw_tradeoff(ax: Axes, points: Sequence[dict[str, Any]]) -> None:
    """Accuracy vs median latency; area ∝ size; Pareto-optimal points ringed.

    The front is over three objectives (latency, size, accuracy), so it is marked point by
    point: a line through it in two dimensions would suggest trade-offs that do not exist.
    """
    points = _median_keyed(points)
    if not points:
        ax.text(0.5, 0.5, "no models measured yet", ha="center", va="center", transform=ax.transAxes)
        return
    biggest = max(p["size_bytes"] for p in points)
    front = set(pareto_front(points))
    middle = np.median([p["latency_ms_median"] for p in points])
    for i, p in enumerate(points):
        area = 60 + 600 * p["size_bytes"] / biggest
        ax.scatter(p["latency_ms_median"] * 1e3, p["accuracy"], s=area, alpha=0.6,
                   color=_COLORS.get(p["name"], "#55A868"), edgecolors="black" if i in front else "none",
                   linewidths=2 if i in front else 0)
        # Labels point inwards (left of points on the right half) so they stay inside the axes,
        # and start just outside the marker's radius (sqrt(area) / 2 points).
        right = p["latency_ms_median"] > middle
        gap = np.sqrt(area) / 2 + 2
        ax.annotate(shown_name(p["name"]).replace(" + ", "\n+ ") + f"\n{p['size_bytes'] / 1e3:.1f} kB",
                    (p["latency_ms_median"] * 1e3, p["accuracy"]), textcoords="offset points",
                    xytext=(-gap if right else gap, 4), ha="right" if right else "left", fontsize=7)
    ax.scatter([], [], s=80, facecolors="none", edgecolors="black", linewidths=2,
               label="ringed: Pareto front (nothing else is as fast,\nas small and as accurate at once)")
    ax.margins(0.25)
    ax.set_xlabel("median latency at batch 1 (µs)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Trade-off: accuracy, latency, size (marker area)")
    ax.legend(fontsize=7, loc="lower right")


def draw_class_tradeoff(ax: Axes, points: Sequence[dict[str, Any]], highlight: Optional[str] = None) -> None:
    """A whole class on one trade-off plot: accuracy against median latency, Pareto front ringed.

    Unlike :func:`draw_tradeoff` no point is labelled (a class has hundreds), except the
    front's members and ``highlight`` (a name), which is drawn in red.
    """
    points = _median_keyed(points)
    front = set(pareto_front(points))
    xs = np.array([p["latency_ms_median"] * 1e3 for p in points])
    ys = np.array([p["accuracy"] for p in points])
    ax.scatter(xs, ys, s=18, alpha=0.5, color="#4C72B0", label=f"{len(points)} submissions")
    on_front = sorted(front, key=lambda i: xs[i])
    ax.scatter(xs[on_front], ys[on_front], s=60, facecolors="none", edgecolors="black", linewidths=1.5,
               label="Pareto front (latency, size, accuracy)")
    for i in on_front[:12]:
        ax.annotate(shown_name(points[i]["name"]), (xs[i], ys[i]), textcoords="offset points", xytext=(4, 4),
                    fontsize=6)
    if highlight is not None:
        mine = [i for i, p in enumerate(points) if p["name"] == highlight]
        ax.scatter(xs[mine], ys[mine], s=90, color="#C44E52", label=shown_name(highlight), zorder=3)
    ax.set_xlabel("median latency at batch 1 (µs)")
    ax.set_ylabel("test accuracy")
    ax.set_title("The class: accuracy against latency")
    ax.legend(fontsize=7, loc="lower right")


def _short(name: str) -> str:
    """A technique name wrapped to fit under a narrow bar: one line per word, '+' between steps."""
    return "\n+ ".join(textwrap.fill(part.replace("_", " "), 12, break_long_words=False)
                        for part in shown_name(name).split(" + "))


_NOISE = "#A0A0A0"


def _within_noise(before: dict[str, Any], after: dict[str, Any], key: str) -> bool:
    """Whether a step's change of ``key`` lies within the noise, as far as the steps can tell.

    Latency: the step's ``latency_change`` verdict (from interleaved samples) says so.
    Accuracy: the two Wilson intervals overlap. Stored bytes are exact: never noise.
    """
    if key == "latency_ms_median":
        return after.get("latency_change") == "no significant difference"
    if key == "accuracy" and "accuracy_ci" in before and "accuracy_ci" in after:
        (lo_a, hi_a), (lo_b, hi_b) = before["accuracy_ci"], after["accuracy_ci"]
        return bool(lo_a <= hi_b and lo_b <= hi_a)
    return False


def draw_waterfall(axes: Sequence[Axes], steps: Sequence[dict[str, Any]]) -> None:
    """Three panels (latency, size, accuracy): the baseline, then each step's change, then the result.

    A change is green when better, red when worse and grey when it lies within the noise
    (see :func:`_within_noise`), so a step that only looks slower is not painted as a loss.
    """
    steps = _median_keyed(steps)
    metrics = (("latency_ms_median", "median latency (µs)", 1e3), ("size_bytes", "stored size (kB)", 1e-3),
               ("accuracy", "accuracy (%)", 100.0))
    names = [s["name"] for s in steps]
    for ax, (key, title, scale) in zip(axes, metrics, strict=True):
        values = [s[key] * scale for s in steps]
        # The first bar stands on zero; each later bar spans the change from its predecessor.
        bottoms = [0.0] + [min(a, b) for a, b in pairwise(values)]
        heights = [values[0]] + [abs(b - a) for a, b in pairwise(values)]
        colors = [_COLORS["baseline"]] + [
            _NOISE if _within_noise(before, after, key) else
            "#55A868" if ((b > a) if key == "accuracy" else (b < a)) else "#C44E52"
            for (a, b), (before, after) in zip(pairwise(values), pairwise(steps), strict=True)]
        ax.bar(range(len(values)), heights, bottom=bottoms, color=colors)
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:.3g}", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(len(values)), [_short(n) for n in names], fontsize=7)
        ax.set_title(title, fontsize=9)
        if key == "accuracy":
            low = min(values)
            ax.set_ylim(max(0.0, low - 5), 100.5)
    axes[0].figure.suptitle("What each step of the stack did (green: better, red: worse, grey: within the noise)",
                            fontsize=10)


def saturation_batch(rows: Sequence[dict[str, Any]], fraction: float = 0.9) -> int:
    """The smallest batch size whose throughput reaches ``fraction`` of the best measured.

    Past it, a bigger batch buys little throughput and costs every request a longer wait.
    """
    best = max(r["samples_per_sec"] for r in rows)
    return min(r["batch_size"] for r in rows if r["samples_per_sec"] >= fraction * best)


def draw_batch_scaling(ax_latency: Axes, ax_throughput: Axes, rows: Sequence[dict[str, Any]]) -> None:
    """Per-batch latency and per-sample throughput against batch size (log₂ axis), saturation marked."""
    sizes = [r["batch_size"] for r in rows]
    ax_latency.plot(sizes, [r["median_batch_ms"] for r in rows], "o-", color=_COLORS["baseline"])
    ax_latency.set_ylabel("latency per batch (ms)")
    ax_latency.set_title("Latency grows with the batch")
    tput = [r["samples_per_sec"] for r in rows]
    ax_throughput.plot(sizes, tput, "o-", color=_COLORS["optimized"])
    ax_throughput.set_ylabel("throughput (samples/s)")
    ax_throughput.set_title("Throughput per sample")
    for ax in (ax_latency, ax_throughput):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("batch size")
    knee = saturation_batch(rows)
    if knee < max(sizes):  # mark saturation only where the data show it
        for ax in (ax_latency, ax_throughput):
            ax.axvline(knee, color="grey", linestyle=":", linewidth=1.2)
        ax_throughput.axhline(0.9 * max(tput), color="grey", linestyle=":", linewidth=1.2)
        right_half = sizes.index(knee) > len(sizes) / 2  # label on the inner side of the line
        ax_throughput.annotate(f"90 % of peak from batch {knee}", (knee, 0.9 * max(tput)),
                               textcoords="offset points", xytext=(-6 if right_half else 6, -14),
                               ha="right" if right_half else "left", fontsize=7)


def points_from_results(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The trade-off points of a results document: its baseline and, if there is one, its optimized model."""
    return [trade_off_point(name, doc[name]["metrics"]) for name in ("baseline", "optimized") if name in doc]


def figures_from_results(doc: dict[str, Any]) -> dict[str, Figure]:
    """The figures a results document can support: latency, trade-off and (if optimized) waterfall."""
    with literal_text():
        return _figures(doc)


def _figures(doc: dict[str, Any]) -> dict[str, Figure]:
    figures = {}
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    for name in ("baseline", "optimized"):
        if name in doc:
            draw_latency_distribution(ax, doc[name]["metrics"]["latency"], name)
    robust = doc.get("improvements", {}).get("median_speedup")
    if robust:
        low, high = robust["ci"]
        ax.set_title(f"Median speedup {robust['ratio']:.2f}x, 95% CI [{low:.2f}, {high:.2f}]: {robust['verdict']}")
    figures["latency"] = fig
    fig = Figure(figsize=(6, 4.5), layout="constrained")
    draw_tradeoff(fig.add_subplot(), points_from_results(doc))
    figures["tradeoff"] = fig
    if "optimized" in doc:
        points = points_from_results(doc)
        points[1]["name"] = " + ".join(doc["optimized"]["techniques_applied"])
        if robust:
            points[1]["latency_change"] = robust["verdict"]
        fig = Figure(figsize=(9, 3.5), layout="constrained")
        draw_waterfall(fig.subplots(1, 3), points)
        figures["waterfall"] = fig
    return figures


def render_figures(doc: dict[str, Any]) -> dict[str, bytes]:
    """Each figure of a results document as PNG bytes, by name."""
    return {name: png(fig) for name, fig in figures_from_results(doc).items()}


def save_figures(doc: dict[str, Any], folder: str, prefix: str = "results") -> list[str]:
    """Write each figure as ``<folder>/<prefix>_<name>.png``, all or none (:func:`write_all`); the paths.

    Raises :class:`tinytorch.olympics.output.OutputError` when the folder cannot take them.
    """
    return write_all(folder, {f"{prefix}_{name}.png": content for name, content in render_figures(doc).items()})
