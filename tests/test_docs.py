"""The README's pictures are the current plots of the example results file and of a generated class's
leaderboard, and it shows them. (The leaderboard page's screenshot is re-shot by the browser test.)"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

from tinytorch.olympics.cli import main  # noqa: E402
from tools.leaderboard_pictures import build_leaderboard  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
NAMES = ("optimized_latency.png", "optimized_tradeoff.png", "optimized_waterfall.png")
LEADERBOARD = ("leaderboard_tradeoff.png", "leaderboard_page.png")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plots")
    assert main(["plot", str(ROOT / "schemas" / "examples" / "valid" / "optimized.json"), "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("name", NAMES)
def test_committed_picture_matches_what_the_plot_command_draws(fresh, name):
    # A small RMS tolerance absorbs anti-aliasing differences between matplotlib releases;
    # a changed plot (moved labels, another scale, other data) is far above it.
    difference = compare_images(str(IMAGES / name), str(fresh / name), tol=3)
    assert difference is None, f"docs/images/{name} is stale: run `make docs` and commit it ({difference})"


def test_the_committed_class_picture_matches_what_the_leaderboard_draws(tmp_path):
    fresh = build_leaderboard(tmp_path) / "leaderboard_tradeoff.png"
    difference = compare_images(str(IMAGES / "leaderboard_tradeoff.png"), str(fresh), tol=3)
    assert difference is None, f"docs/images/leaderboard_tradeoff.png is stale: run `make docs` ({difference})"


def test_readme_shows_every_picture():
    shown = set(re.findall(r"!\[[^\]]*\]\(docs/images/([^)]+)\)", (ROOT / "README.md").read_text()))
    assert shown == set(NAMES) | set(LEADERBOARD)
