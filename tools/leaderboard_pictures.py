"""The README's leaderboard pictures, drawn from a generated class of 30 (``make docs``).

``docs/images/leaderboard_tradeoff.png`` is the PNG the command writes;
``docs/images/leaderboard_page.png`` is the top of the HTML page as headless Chromium shows
it. tests/test_docs.py redraws the first and tests/notebooks/test_browser.py re-shoots the
second, and each fails when the committed picture is stale.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from tinytorch.olympics.cli import main as olympics
from tinytorch.olympics.testing import example_class

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
CLASS_SIZE, SEED = 30, 1
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def build_leaderboard(folder: Path) -> Path:
    """The leaderboard of the generated class, written into ``folder/board``; returns that folder."""
    tree = folder / "autograded"
    for student, doc in example_class(CLASS_SIZE, seed=SEED).items():
        (tree / student / "capstone").mkdir(parents=True)
        (tree / student / "capstone" / "results.json").write_text(json.dumps(doc))
    board = folder / "board"
    board.mkdir()
    if olympics(["leaderboard", str(tree), "--out", str(board)]) != 0:
        raise RuntimeError("the leaderboard of the generated class failed")
    return board


def screenshot(page: Path, target: Path, chromium: Path = CHROMIUM) -> None:
    """The first screen of ``page`` (1100 x 900 CSS pixels) as a PNG, in headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1100, "height": 900})
            tab.goto(page.as_uri())
            tab.screenshot(path=str(target))
        finally:
            browser.close()


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        board = build_leaderboard(Path(scratch))
        shutil.copy(board / "leaderboard_tradeoff.png", IMAGES / "leaderboard_tradeoff.png")
        print(f"wrote {IMAGES / 'leaderboard_tradeoff.png'}")
        if CHROMIUM.exists():
            screenshot(board / "leaderboard.html", IMAGES / "leaderboard_page.png")
            print(f"wrote {IMAGES / 'leaderboard_page.png'}")
        else:
            print(f"{CHROMIUM} not found: docs/images/leaderboard_page.png not redrawn", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
