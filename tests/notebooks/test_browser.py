"""The capstone notebook in a real browser: JupyterLab + headless Chromium, driven by Playwright.

The test opens the built solution notebook, runs all cells from the Run menu, checks that the
explorers rendered as live widgets, turns two knobs with the keyboard (the way a student
would) and checks that the pictures changed. Screenshots go to ``artefacts/browser/``.

Where Chromium or Playwright is missing the test skips with the reason, unless
``TINYTORCH_REQUIRE_BROWSER=1`` is set (CI sets it), in which case it fails.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import nbformat
import pytest

from tests.course import ROOT, tool_env, with_cells
from tests.notebooks.variants import ALTERNATIVE

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("TINYTORCH_CHROMIUM", "/usr/bin/chromium"))
ARTEFACTS = ROOT / "artefacts" / "browser"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def _missing(reason: str) -> None:
    if os.environ.get("TINYTORCH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (TINYTORCH_REQUIRE_BROWSER=1: the browser test must run here)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_lab(python: Path, notebook, home: Path, env: dict[str, str]) -> Iterator[str]:
    """JupyterLab of the environment of ``python`` on a free loopback port, serving ``notebook``; its URL.

    Everything JupyterLab writes (settings, workspaces, runtime files) stays in ``home``.
    Cells are rendered in full (no windowing) so that what is below the fold exists in the
    page, and the news pop-up is off so screenshots show the notebook.
    """
    served = home / "served"
    served.mkdir(parents=True)
    nbformat.write(notebook, served / "capstone.ipynb")
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    (home / "config" / "labconfig").mkdir(parents=True)
    (home / "config" / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(env, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTER_PREFER_ENV_PATH="0")
    log = (home / "lab.log").open("w")
    server = subprocess.Popen(
        [str(python), "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={served}", "--ServerApp.port_retries=0",
         "--ServerApp.allow_root=True",
         f"--LabApp.user_settings_dir={home / 'settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}"],
        cwd=served, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"JupyterLab did not start:\n{(home / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield f"{base}/lab/tree/capstone.ipynb?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _need_browser() -> None:
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[browser]')")


@pytest.fixture(scope="module")
def lab(course: Path, tmp_path_factory) -> Iterator[str]:
    """The instructor's JupyterLab serving the solution notebook."""
    _need_browser()
    notebook = nbformat.read(course / "source" / "capstone" / "capstone.ipynb", as_version=4)
    with running_lab(Path(sys.executable), notebook, tmp_path_factory.mktemp("lab"), tool_env()) as url:
        yield url


@pytest.fixture(scope="module")
def student_lab(fresh_python: Path, edition: Path, student_binder: dict, tmp_path_factory) -> Iterator[str]:
    """JupyterLab of the student edition's environment (after its Binder postBuild), serving its notebook
    with a correct solution written in."""
    _need_browser()
    notebook = with_cells(nbformat.read(edition / "capstone" / "capstone.ipynb", as_version=4), ALTERNATIVE)
    with running_lab(fresh_python, notebook, tmp_path_factory.mktemp("student-lab"), student_binder) as url:
        yield url


def _run_all_until_the_explorers_draw(page) -> None:
    """Run → Run All Cells, then wait for the explorers (or a failed cell, which is named)."""
    from playwright.sync_api import expect

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    expect(page.locator(".jp-Notebook")).to_be_visible(timeout=60_000)
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(1, timeout=60_000)
    # "Run All Cells" does nothing until the notebook is the current widget (on a busy machine
    # the menu can open before it is): focus a cell, take the item only when it is enabled, and
    # make sure a cell really started; otherwise try again.
    page.locator(".jp-Notebook .jp-Cell").first.click()
    run_all = page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel", has_text="Run All Cells")
    for _ in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        try:
            run_all.first.click(timeout=10_000)
            page.wait_for_function("""() => [...document.querySelectorAll('.jp-InputPrompt')].some(
                                          p => /\\[(\\*|\\d+)\\]/.test(p.textContent))""", timeout=30_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    else:
        raise AssertionError("Run → Run All Cells did not start any cell")
    # Run All stops at the first failing cell: wait until the explorers have drawn or a
    # cell has failed, and name the failure.
    page.wait_for_function(
        """() => [...document.querySelectorAll('.widget-html-content')].some(
                   e => e.textContent.includes('configurations measured so far'))
              || [...document.querySelectorAll('.jp-OutputArea-output')].some(
                   e => e.textContent.includes('Traceback'))""", timeout=240_000)
    failures = [text for text in page.locator(".jp-OutputArea-output").all_inner_texts() if "Traceback" in text]
    assert not failures, "a cell failed:\n" + "\n".join(failures)[-4000:]
    # Four pictures: batch scaling; trade-off, latency distribution and waterfall of the stack.
    expect(page.locator("img.widget-image")).to_have_count(4)
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(1, timeout=120_000)
    for image in page.locator("img.widget-image").all():
        assert image.evaluate("i => i.complete && i.naturalWidth > 300"), "a widget picture did not load"


@contextmanager
def _browser_page(failure_picture: str) -> Iterator:
    """A page in headless Chromium; on a failure, a screenshot of it goes to ``artefacts/browser/``."""
    from playwright.sync_api import sync_playwright

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            yield page
        except Exception:
            page.screenshot(path=str(ARTEFACTS / failure_picture))
            raise
        finally:
            browser.close()


def _image_sources(page) -> list[str]:
    return page.locator("img.widget-image").evaluate_all("images => images.map(i => i.src)")


def test_notebook_runs_in_jupyterlab_and_its_knobs_redraw(lab: str):
    from playwright.sync_api import expect

    for old in ARTEFACTS.glob("*.png"):
        old.unlink()
    with _browser_page("failure.png") as page:
        page.goto(lab)
        _run_all_until_the_explorers_draw(page)
        stack_message = page.locator(".widget-html-content", has_text="configurations measured so far")

        batch_box = page.locator(".widget-vbox", has=page.locator(".widget-label", has_text="batch size")).last
        batch_box.scroll_into_view_if_needed()
        batch_box.screenshot(path=str(ARTEFACTS / "1-batch-explorer-64.png"))
        batch_message = batch_box.locator(".widget-html-content").first
        expect(batch_message).to_contain_text("At batch 64")
        before = _image_sources(page)
        handle = batch_box.locator(".noUi-handle").first
        handle.focus()
        started = time.perf_counter()
        handle.press("ArrowRight")
        expect(batch_message).to_contain_text("At batch 128", timeout=30_000)
        expect(batch_box.locator("img.widget-image")).not_to_have_attribute("src", before[0])
        print(f"\nbatch knob: key press to new picture {time.perf_counter() - started:.2f} s (browser round trip)")
        after = _image_sources(page)
        assert after[0] != before[0] and after[1:] == before[1:], "only the batch picture should change"
        batch_box.screenshot(path=str(ARTEFACTS / "2-batch-explorer-128.png"))

        prune = page.locator(".widget-hslider", has=page.locator(".widget-label", has_text="prune")).first
        stack_box = page.locator(".widget-vbox", has=prune).last
        stack_box.scroll_into_view_if_needed()
        stack_box.screenshot(path=str(ARTEFACTS / "3-stack-explorer-prune-0.40.png"))
        expect(stack_message).to_contain_text("2 configurations measured so far")  # baseline + default stack
        prune.locator(".noUi-handle").first.focus()
        started = time.perf_counter()
        prune.locator(".noUi-handle").first.press("ArrowLeft")
        expect(stack_message).to_contain_text("3 configurations measured so far", timeout=60_000)
        print(f"stack knob: key press to new pictures {time.perf_counter() - started:.2f} s (browser round trip)")
        changed = _image_sources(page)
        assert changed[0] == after[0], "the batch picture should not move when the stack changes"
        assert all(new != old for new, old in zip(changed[1:], after[1:])), "every stack picture should redraw"
        expect(stack_message).to_contain_text("structured_pruning(0.35)")
        stack_box.screenshot(path=str(ARTEFACTS / "4-stack-explorer-prune-0.35.png"))
        page.screenshot(path=str(ARTEFACTS / "5-jupyterlab.png"))


def test_the_student_edition_runs_in_its_own_jupyterlab_with_student_tools_only(student_lab: str):
    """What a student sees on Binder: the edition's notebook, widgets working, nbgrader's student tools only."""
    from playwright.sync_api import expect

    with _browser_page("student-failure.png") as page:
        page.goto(student_lab)
        _run_all_until_the_explorers_draw(page)
        expect(page.locator(".jp-Toolbar-item", has_text="Validate")).to_have_count(1)
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click()
        items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
        page.keyboard.press("Escape")
        assert "Assignment List" in items, f"the student tools must stay: {items}"
        assert not {"Formgrader", "Course List"} & set(items), f"instructor tools must be off: {items}"
        page.screenshot(path=str(ARTEFACTS / "6-student-edition.png"))
