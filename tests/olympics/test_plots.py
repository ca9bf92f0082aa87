"""Plots: the Pareto rule by hand, figures drawn from results files, and the plot command."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import io  # noqa: E402
import json  # noqa: E402

import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tinytorch.olympics.cli import main  # noqa: E402
from tinytorch.olympics.plots import (  # noqa: E402
    draw_latency_distribution,
    draw_waterfall,
    figures_from_results,
    pareto_front,
    points_from_results,
    saturation_batch,
)

from .conftest import EXAMPLES  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def point(name, latency, size, accuracy):
    return {"name": name, "latency_ms_median": latency, "size_bytes": size, "accuracy": accuracy}


def test_pareto_front_keeps_exactly_the_undominated_points():
    points = [point("base", 0.02, 40_000, 0.98), point("int8", 0.03, 10_000, 0.98),
              point("worse", 0.04, 20_000, 0.97), point("fast", 0.01, 50_000, 0.90), point("twin", 0.02, 40_000, 0.98)]
    assert pareto_front(points) == [0, 1, 3, 4]


def test_figures_mark_the_reported_percentiles(optimized, baseline_only):
    figures = figures_from_results(optimized)
    assert set(figures) == {"latency", "tradeoff", "waterfall"}
    lines = {round(line.get_xdata()[0], 6) for line in figures["latency"].axes[0].get_lines()}
    for name in ("baseline", "optimized"):
        lat = optimized[name]["metrics"]["latency"]
        assert {round(lat[k] * 1e3, 6) for k in ("median", "p90", "p99")} <= lines
    bars = figures["waterfall"].axes[1].patches
    assert bars[1].get_y() == pytest.approx(optimized["optimized"]["metrics"]["model_size_bytes"] / 1e3)
    assert set(figures_from_results(baseline_only)) == {"latency", "tradeoff"}


def test_plot_command_writes_pngs_for_valid_files_only(tmp_path, capsys):
    assert main(["plot", str(EXAMPLES / "valid" / "optimized.json"), "--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["optimized_latency.png", "optimized_tradeoff.png", "optimized_waterfall.png"]
    assert all((tmp_path / name).read_bytes().startswith(PNG) for name in written)
    empty = tmp_path / "none"
    empty.mkdir()
    assert main(["plot", str(EXAMPLES / "invalid" / "inverted_speedup.json"), "--out", str(empty)]) == 1
    assert list(empty.iterdir()) == [] and "not plotted" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:   # an argparse type: usage and reason, before reading anything
        main(["plot", str(EXAMPLES / "valid" / "optimized.json"), "--out", str(tmp_path / "missing")])
    assert refused.value.code == 2 and "argument --out: " in capsys.readouterr().err


def test_saturation_is_the_first_batch_within_90_percent_of_the_best():
    rows = [{"batch_size": b, "samples_per_sec": t}
            for b, t in ((1, 10.0), (2, 50.0), (4, 91.0), (8, 100.0), (16, 95.0))]
    assert saturation_batch(rows) == 4
    assert saturation_batch(rows, fraction=0.95) == 8
    assert saturation_batch(rows[:1]) == 1


@pytest.mark.parametrize("zero_in", ["baseline", "optimized"])
def test_a_zero_latency_sample_is_drawn_on_a_linear_axis(zero_in):
    # The schema allows 0 ms (a coarse timer can read 0); a log axis cannot show it.
    fig = Figure()
    ax = fig.add_subplot()
    for label in ("baseline", "optimized"):
        samples = [0.0, 0.01, 0.02] if label == zero_in else [0.01, 0.02, 0.5]
        latency = {"samples_ms": samples, "median": samples[1], "p90": samples[2], "p99": samples[2]}
        draw_latency_distribution(ax, latency, label)
    fig.savefig(io.BytesIO(), format="png")
    assert ax.get_xscale() == "linear"
    alone = Figure().add_subplot()
    draw_latency_distribution(alone, {"samples_ms": [0.01, 0.5], "median": 0.01, "p90": 0.5, "p99": 0.5}, "baseline")
    assert alone.get_xscale() == "log"


def test_a_point_with_the_old_latency_key_still_plots_and_says_the_new_key():
    old = [{"name": "a", "latency_ms": 1.0, "size_bytes": 10, "accuracy": 0.9},
           {"name": "b", "latency_ms": 2.0, "size_bytes": 20, "accuracy": 0.8}]
    with pytest.warns(DeprecationWarning, match="'latency_ms' is renamed 'latency_ms_median'"):
        assert pareto_front(old) == [0]


def test_trade_off_points_carry_the_median_under_its_own_name():
    doc = json.loads((EXAMPLES / "valid" / "optimized.json").read_text())
    points = points_from_results(doc)
    assert [p["latency_ms_median"] for p in points] == [doc[n]["metrics"]["latency"]["median"]
                                                         for n in ("baseline", "optimized")]
    assert all("latency_ms" not in p for p in points)


def _bar_colors(steps: list[dict]) -> list[list[str]]:
    from matplotlib.colors import to_hex

    fig = Figure()
    axes = fig.subplots(1, 3)
    draw_waterfall(axes, steps)
    return [[to_hex(bar.get_facecolor()) for bar in ax.patches] for ax in axes]


def test_a_step_within_the_noise_is_grey_not_a_loss_or_a_gain():
    base = {"name": "baseline", "latency_ms_median": 0.0159, "size_bytes": 1000, "accuracy": 0.97,
            "accuracy_ci": (0.95, 0.98)}
    fused = {"name": "fusion", "latency_ms_median": 0.0186, "size_bytes": 1000, "accuracy": 0.965,
             "accuracy_ci": (0.945, 0.978), "latency_change": "no significant difference"}
    latency, _, accuracy = _bar_colors([base, fused])
    assert latency[1] == accuracy[1] == "#a0a0a0"
    slower = {**fused, "latency_change": "slower", "accuracy": 0.5, "accuracy_ci": (0.45, 0.55)}
    latency, _, accuracy = _bar_colors([base, slower])
    assert latency[1] == accuracy[1] == "#c44e52", "a change clear of the noise keeps its colour"
    faster = {**fused, "latency_ms_median": 0.01, "latency_change": "faster", "size_bytes": 500}
    latency, size, _ = _bar_colors([base, faster])
    assert latency[1] == size[1] == "#55a868"


def test_the_latency_figure_of_a_1_1_0_file_leads_with_the_median_speedup():
    doc = json.loads((EXAMPLES / "valid" / "optimized_median_speedup.json").read_text())
    robust = doc["improvements"]["median_speedup"]
    title = figures_from_results(doc)["latency"].axes[0].get_title()
    assert title.startswith(f"Median speedup {robust['ratio']:.2f}x, 95% CI [") and robust["verdict"] in title
