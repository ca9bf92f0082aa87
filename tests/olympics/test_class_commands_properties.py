"""Properties of plot, leaderboard, compare and log over any student ids, technique names, trees and numbers.

For every input each command gives a verdict (an exit code and lines, never an exception),
writes nothing outside its output folder, leaves its output files complete or absent, and
says what its API says. The hostile classes one by one are in ``test_class_commands_hostile.py``.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinytorch.olympics.compare import compare_documents, regressions
from tinytorch.olympics.leaderboard import collect, rank
from tinytorch.olympics.schema import submission_problems
from tinytorch.olympics.testing import example_class

from . import mutations as mut
from .test_class_commands_hostile import BOARD_FILES, VALID, run


def _a_file_name(text: str) -> bool:
    try:
        encoded = os.fsencode(text)
    except UnicodeError:
        return False
    return text not in (".", "..") and 0 < len(encoded) <= 200 and b"/" not in encoded and b"\0" not in encoded


STUDENT_IDS = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30).filter(_a_file_name)
TECHNIQUES = st.lists(st.text(st.characters(codec="utf-8"), min_size=1, max_size=200), min_size=1, max_size=6)
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def snapshot(folder: Path, outside_of: Path | None = None) -> dict[str, tuple[int, bytes]]:
    """Every file under ``folder`` (except under ``outside_of``) with its size and first bytes."""
    seen = {}
    for root, dirs, files in os.walk(folder):
        if outside_of is not None and Path(root).resolve() == outside_of.resolve():
            dirs[:] = []
            continue
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                seen[str(path)] = (path.stat().st_size, path.read_bytes()[:64])
    return seen


def with_techniques(doc: dict, techniques: list[str]) -> dict:
    doc = copy.deepcopy(doc)
    doc["optimized"]["techniques_applied"] = techniques
    return doc


@pytest.mark.slow
@SETTINGS
@given(ids=st.lists(STUDENT_IDS, min_size=1, max_size=4, unique_by=lambda s: os.fsencode(s).lower()),
       techniques=TECHNIQUES, data=st.data())
def test_leaderboard_ranks_any_class_writes_only_its_folder_whole_and_agrees_with_its_api(
        tmp_path_factory, ids, techniques, data):
    tmp = tmp_path_factory.mktemp("board")
    root = tmp / "autograded"
    documents = list(example_class(len(ids), seed=data.draw(st.integers(0, 99))).values())
    for student, doc in zip(ids, documents, strict=True):
        folder = root / student / "capstone"
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps(with_techniques(doc, techniques)))
    out = tmp / "site"
    out.mkdir()
    before = snapshot(tmp, outside_of=out)
    code, printed, err = run("leaderboard", str(root), "--out", str(out))
    assert code in (0, 1) and "Traceback" not in err, err
    assert snapshot(tmp, outside_of=out) == before, "something was written outside the output folder"
    assert {p.name for p in out.iterdir()} == BOARD_FILES
    assert all((out / name).stat().st_size > 0 for name in BOARD_FILES)
    entries, invalid = collect([str(root)])
    assert f"{len(entries)} ranked, {len(invalid)} invalid" in printed
    for event in rank(entries):
        assert f"{event.name}: {event.figure}, {event.better} is better ({len(event.standings)} ranked)" in printed


@pytest.mark.slow
@SETTINGS
@given(student=STUDENT_IDS, techniques=TECHNIQUES)
def test_plot_draws_any_names_beside_the_file_and_nowhere_else(tmp_path_factory, student, techniques):
    tmp = tmp_path_factory.mktemp("plot")
    folder = tmp / student
    folder.mkdir()
    doc = with_techniques(VALID, techniques)
    assert submission_problems(doc) == []
    (folder / "results.json").write_text(json.dumps(doc))
    before = snapshot(tmp)
    code, printed, err = run("plot", str(folder / "results.json"))
    assert code == 0 and "Traceback" not in err, err
    drawn = {p.name for p in folder.iterdir()} - {"results.json"}
    assert drawn == {"results_latency.png", "results_tradeoff.png", "results_waterfall.png"}
    assert {k: v for k, v in snapshot(tmp).items() if Path(k).name == "results.json"} == before
    assert printed.count("wrote ") == 3


@SETTINGS
@given(factor=st.floats(1e-3, 1e3), accuracy_step=st.integers(-20, 20), drop_samples=st.booleans(),
       student=STUDENT_IDS)
def test_compare_gives_any_pair_a_verdict_that_is_what_its_api_says(tmp_path_factory, factor, accuracy_step,
                                                                    drop_samples, student):
    from tinytorch.perf.distributions import clopper_pearson

    tmp = tmp_path_factory.mktemp("compare")
    old, new = copy.deepcopy(VALID), mut.retimed(VALID, factor)
    m = new["optimized"]["metrics"]
    latency = m["latency"]
    if drop_samples:
        latency.pop("samples_ms", None)
        old["optimized"]["metrics"]["latency"].pop("samples_ms", None)
    n = m["accuracy_ci"]["n_samples"]
    correct = min(n, max(0, round(m["accuracy"] * n) + accuracy_step))
    low, high = clopper_pearson(correct, n)
    m.update(accuracy=correct / n, accuracy_ci={**m["accuracy_ci"], "low": low, "high": high,
                                                "method": "Clopper-Pearson"})
    b = new["baseline"]["metrics"]
    new["improvements"].update(speedup=b["latency_ms_mean"] / m["latency_ms_mean"],
                               accuracy_delta=m["accuracy"] - b["accuracy"])
    new.get("improvements", {}).pop("median_speedup", None)
    assert submission_problems(new) == [], submission_problems(new)
    (tmp / student).mkdir()
    paths = [tmp / "old.json", tmp / student / "new.json"]
    for path, doc in zip(paths, (old, new), strict=True):
        path.write_text(json.dumps(doc))
    code, printed, err = run("compare", *map(str, paths))
    assert "Traceback" not in err, err
    worse = regressions(compare_documents(old, new))
    assert code == (1 if worse else 0), printed
    assert len(re.findall(r"  worse", printed)) == len(worse)
    assert all(len(line) <= 500 and "\x1b" not in line for line in printed.splitlines())


@pytest.mark.slow
@settings(deadline=None, max_examples=6, suppress_health_check=[HealthCheck.too_slow])
@given(student=STUDENT_IDS, techniques=TECHNIQUES)
def test_log_records_any_names_or_says_in_one_line_why_not(tmp_path_factory, student, techniques):
    pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
    tmp = tmp_path_factory.mktemp("log")
    (tmp / student).mkdir()
    path = tmp / student / "results.json"
    path.write_text(json.dumps(with_techniques(VALID, techniques)))
    code, printed, err = run("log", str(path), "--tracking-uri", f"sqlite:///{tmp / 'mlflow.db'}")
    assert "Traceback" not in err, err
    assert code == 0 and "logged as run" in printed, printed + err
    assert all(len(line) <= 500 and "\x1b" not in line for line in printed.splitlines())
