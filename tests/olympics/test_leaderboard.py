"""leaderboard: events with stated eligibility, tie groups where intervals overlap, static HTML, CSV, PNG."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tinytorch.olympics.cli import main
from tinytorch.olympics.leaderboard import EVENTS, Entry, Rules, collect, rank
from tinytorch.olympics.testing import example_class


def _entry(student: str, latency: float = 0.01, spread: float = 0.0001, size: int = 10_000,
           accuracy: float = 0.95, accuracy_half: float = 0.01) -> Entry:
    return Entry(student, f"{student}.json", "optimized", latency, (latency - spread, latency + spread), size,
                 accuracy, (accuracy - accuracy_half, accuracy + accuracy_half), 38_440 / size)


def _standings(events, name: str) -> list[tuple[int, bool, str]]:
    event = next(e for e in events if e.name == name)
    return [(s.rank, s.tied, s.entry.student) for s in event.standings]


def _class_tree(tmp_path: Path, size: int = 30) -> Path:
    root = tmp_path / "autograded"
    for student, doc in example_class(size, seed=1).items():
        folder = root / student / "capstone"
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps(doc))
    return root


def test_overlapping_intervals_share_a_rank_and_the_next_rank_counts_them():
    entries = [_entry("a", 0.0100, 0.0005), _entry("b", 0.0102, 0.0005), _entry("c", 0.0200),
               _entry("d", 0.0300, 0.0001)]
    assert _standings(rank(entries), "Latency Sprint") == [(1, True, "a"), (1, True, "b"), (3, False, "c"),
                                                           (4, False, "d")]


def test_a_tie_group_is_measured_from_its_first_member_not_chained():
    # a and b each lie within the other's interval, b and c too, but a and c not: c starts a group of its own.
    entries = [_entry("a", 0.0100, 0.0006), _entry("b", 0.0105, 0.0006), _entry("c", 0.0108, 0.0004)]
    assert _standings(rank(entries), "Latency Sprint") == [(1, True, "a"), (1, True, "b"), (3, False, "c")]


def test_eligibility_is_stated_applied_and_configurable():
    entries = [_entry("fast_but_wrong", latency=0.001, accuracy=0.5), _entry("honest", latency=0.01)]
    events = rank(entries)
    assert [s for _, _, s in _standings(events, "Latency Sprint")] == ["honest"]
    assert [s for _, _, s in _standings(events, "Accuracy Contest")] == ["honest", "fast_but_wrong"]
    assert [s for _, _, s in _standings(rank(entries, Rules(min_accuracy=0.4)), "Latency Sprint")] == [
        "fast_but_wrong", "honest"]
    assert "accuracy at least 0.90" in " ".join(Rules().describe())


def test_bytes_tie_only_when_equal_and_all_around_sums_the_three_ranks():
    entries = [_entry("a", size=5000, latency=0.02), _entry("b", size=5000, latency=0.01),
               _entry("c", size=9000, latency=0.03)]
    events = rank(entries)
    assert _standings(events, "Memory Challenge") == [(1, True, "a"), (1, True, "b"), (3, False, "c")]
    assert [e.name for e in events] == list(EVENTS)
    totals = {s.entry.student: s.score for s in next(e for e in events if e.name == "All-Around").standings}
    assert totals == {"b": 1 + 1 + 1, "a": 2 + 1 + 1, "c": 3 + 3 + 1}


def test_student_ids_come_from_the_autograded_tree_and_invalid_files_are_never_ranked(tmp_path):
    root = _class_tree(tmp_path, 5)
    (root / "mallory" / "capstone").mkdir(parents=True)
    (root / "mallory" / "capstone" / "results.json").write_text('{"schema_version": "1.0.0"}')
    entries, invalid = collect([str(root)])
    assert sorted(e.student for e in entries) == [f"student{i:04d}" for i in range(1, 6)]
    assert [(student, any(p.rule == "required" for p in problems)) for student, _, problems in invalid] == [
        ("mallory", True)]
    assert all(s.entry.student != "mallory" for event in rank(entries) for s in event.standings)


def test_a_file_given_by_name_is_its_own_student_and_a_student_enters_once(tmp_path):
    names = ("ada.json", "x/results.json", "y/ada.json", "class/z/capstone/results.json", "class/z/old.json")
    for name, doc in zip(names, example_class(len(names)).values(), strict=True):   # each its own measurement
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(json.dumps(doc))
    entries, invalid = collect([str(tmp_path / "ada.json"), str(tmp_path / "x" / "results.json"),
                                str(tmp_path / "y" / "ada.json"), str(tmp_path / "class")])
    # ada has two files, neither named results.json: she enters with none; z's results.json enters, old.json not.
    assert [e.student for e in entries] == ["x", "z"] and entries[1].path.endswith("results.json")
    assert sorted((student, problems[0].rule) for student, _, problems in invalid) == [
        ("ada", "one-entry"), ("ada", "one-entry"), ("z", "one-entry")]


def test_the_command_writes_a_self_contained_page_a_csv_and_a_png(tmp_path, capsys):
    root = _class_tree(tmp_path, 30)
    hostile = root / "<img src=x onerror=alert(1)>" / "capstone"
    hostile.mkdir(parents=True)
    (hostile / "results.json").write_text(json.dumps(next(iter(example_class(1, seed=9).values()))))
    out = tmp_path / "board"
    out.mkdir()
    assert main(["leaderboard", str(root), "--out", str(out), "--top", "3"]) == 0
    printed = capsys.readouterr().out
    assert "31 ranked, 0 invalid" in printed and "Latency Sprint" in printed and "Rules:" in printed
    page = (out / "leaderboard.html").read_text()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "http://" not in page and "https://" not in page and 'src="data:image/png;base64,' in page
    assert all(f"<h2>{name}</h2>" in page for name in EVENTS)
    rows = list(csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text())))
    entries, _ = collect([str(root)])
    assert len(rows) == sum(len(event.standings) for event in rank(entries))
    assert {r["event"] for r in rows} == set(EVENTS)
    assert {r["student"] for r in rows if r["event"] == "Accuracy Contest"} == {e.student for e in entries}
    pictures = sorted(p.name for p in out.glob("*.png"))
    assert pictures == sorted(["leaderboard_tradeoff.png", "leaderboard_latency_sprint.png",
                               "leaderboard_memory_challenge.png", "leaderboard_accuracy_contest.png",
                               "leaderboard_all_around.png", "leaderboard_extreme_push.png"])
    assert all((out / name).read_bytes().startswith(b"\x89PNG") for name in pictures)


def test_nothing_valid_is_exit_1_and_a_bad_threshold_is_refused(tmp_path, capsys):
    (tmp_path / "bad.json").write_text("[]")
    assert main(["leaderboard", str(tmp_path)]) == 1
    assert "0 ranked, 1 invalid" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["leaderboard", str(tmp_path), "--min-accuracy", "97"])
    assert info.value.code == 2 and "must be a fraction in [0, 1], got 97" in capsys.readouterr().err


@pytest.mark.browser
def test_the_readme_picture_of_the_page_is_what_chromium_shows_now(tmp_path):
    from matplotlib.testing.compare import compare_images

    from tests.notebooks.test_browser import _need_browser
    from tools.leaderboard_pictures import IMAGES, build_leaderboard, screenshot

    _need_browser()
    shot = tmp_path / "page.png"
    screenshot(build_leaderboard(tmp_path) / "leaderboard.html", shot)
    difference = compare_images(str(IMAGES / "leaderboard_page.png"), str(shot), tol=5)
    assert difference is None, f"docs/images/leaderboard_page.png is stale: run `make docs` ({difference})"
