"""plot, leaderboard, compare and log over files and folder names that students control: one test per class.

Each class of the audit has its reproducer here: an output written through a planted link,
text that a renderer reads as markup, deep and long trees, output folders that cannot be
written, formula injection in the CSV, one file in several places, an interval that ties
everyone, numbers beyond a sane latency, a tracking store that fails, a model missing from
a comparison. The properties over any input are in ``test_class_commands_properties.py``.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tinytorch.olympics.cli import main
from tinytorch.olympics.files import MAX_DEPTH
from tinytorch.olympics.leaderboard import Entry, Rules, collect, rank
from tinytorch.olympics.schema import submission_problems
from tinytorch.olympics.testing import example_class

from .conftest import EXAMPLES

VALID = json.loads((EXAMPLES / "valid" / "optimized.json").read_text())
BASELINE_ONLY = json.loads((EXAMPLES / "valid" / "baseline_only.json").read_text())
BOARD_FILES = {"leaderboard.html", "leaderboard.csv", "leaderboard_tradeoff.png", "leaderboard_latency_sprint.png",
               "leaderboard_memory_challenge.png", "leaderboard_accuracy_contest.png", "leaderboard_all_around.png",
               "leaderboard_extreme_push.png"}


def run(*argv: str) -> tuple[int, str, str]:
    """The command in this process: its exit code, output and error output. An exception is a failure."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:   # argparse refusing an argument
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def tree(root: Path, documents: dict[str, dict]) -> Path:
    """An nbgrader ``autograded/<student>/capstone/results.json`` tree."""
    for student, doc in documents.items():
        folder = root / student / "capstone"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "results.json").write_text(json.dumps(doc))
    return root


def victim(tmp_path: Path) -> Path:
    target = tmp_path / "instructor" / ".bashrc"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("export PATH=...\n")
    return target


class TestOutputThroughAPlantedLink:
    def test_plot_replaces_a_link_under_its_output_name_and_never_writes_through_it(self, tmp_path):
        folder = tmp_path / "mallory"
        folder.mkdir()
        (folder / "results.json").write_text(json.dumps(VALID))
        target = victim(tmp_path)
        (folder / "results_latency.png").symlink_to(target)
        code, out, err = run("plot", str(folder / "results.json"))
        assert code == 0, err
        assert target.read_text() == "export PATH=...\n"
        link = folder / "results_latency.png"
        assert not link.is_symlink() and link.read_bytes().startswith(b"\x89PNG")

    def test_leaderboard_out_replaces_planted_links_and_leaves_no_temporary_file(self, tmp_path):
        root = tree(tmp_path / "autograded", dict(list(example_class(4).items())))
        out = tmp_path / "site"
        out.mkdir()
        target = victim(tmp_path)
        for name in ("leaderboard.csv", "leaderboard.html"):
            (out / name).symlink_to(target)
        code, _, err = run("leaderboard", str(root), "--out", str(out))
        assert code == 0, err
        assert target.read_text() == "export PATH=...\n"
        assert {p.name for p in out.iterdir()} == BOARD_FILES
        assert not any(p.is_symlink() for p in out.iterdir())


class TestTextIsDrawnLiterally:
    @pytest.mark.parametrize("name", ["$\\undefinedcommand$", "$x^{$", "a_b^c$$", "\\$\\frac{1}{0}$"])
    def test_a_student_id_or_technique_name_read_as_mathtext_takes_nothing_down(self, tmp_path, name):
        doc = copy.deepcopy(VALID)
        doc["optimized"]["techniques_applied"] = [name, "quantize_int8"]
        assert submission_problems(doc) == []
        root = tree(tmp_path / "autograded", {name.replace("/", "_"): doc,
                                              **dict(list(example_class(3).items()))})
        code, _, err = run("leaderboard", str(root), "--out", str(tmp_path))
        assert code == 0 and "Traceback" not in err, err
        assert BOARD_FILES <= {p.name for p in tmp_path.iterdir()}
        results = root / name.replace("/", "_") / "capstone" / "results.json"
        code, out, err = run("plot", str(results))
        assert code == 0 and out.count("wrote ") == 3, err

    def test_a_long_technique_name_is_cut_where_it_is_drawn(self, tmp_path):
        doc = copy.deepcopy(VALID)
        doc["optimized"]["techniques_applied"] = ["x" * 200] * 64   # the schema's largest
        assert submission_problems(doc) == []
        path = tmp_path / "results.json"
        path.write_text(json.dumps(doc))
        code, out, err = run("plot", str(path))
        assert code == 0 and out.count("wrote ") == 3, err


class TestTreeWalks:
    def test_a_thousand_nested_folders_and_a_path_past_path_max_are_reported_not_raised(self, tmp_path):
        root = tree(tmp_path / "autograded", dict(list(example_class(2).items())))
        deep = root / "mallory"
        deep.mkdir()
        descriptor = os.open(deep, os.O_RDONLY)
        try:   # 1000 levels of 200-character names: some 200,000 characters, far past PATH_MAX (4096)
            for _ in range(1000):
                os.mkdir("d" * 200, dir_fd=descriptor)
                inner = os.open("d" * 200, os.O_RDONLY, dir_fd=descriptor)
                os.close(descriptor)
                descriptor = inner
            with open(os.open("results.json", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=descriptor), "w") as f:
                f.write(json.dumps(VALID))
        finally:
            os.close(descriptor)
        try:
            self._walks(tmp_path, root)
        finally:
            self._remove(deep, 1000)

    @staticmethod
    def _remove(deep: Path, levels: int) -> None:
        """Remove the deep chain bottom up by folder descriptors (a recursive rmtree would overflow)."""
        chain = [os.open(deep, os.O_RDONLY)]
        for _ in range(levels):
            chain.append(os.open("d" * 200, os.O_RDONLY, dir_fd=chain[-1]))
        os.unlink("results.json", dir_fd=chain[-1])
        for parent, child in zip(chain[-2::-1], chain[:0:-1], strict=True):
            os.close(child)
            os.rmdir("d" * 200, dir_fd=parent)
        os.close(chain[0])

    @staticmethod
    def _walks(tmp_path: Path, root: Path) -> None:
        entries, invalid = collect([str(root)])
        assert len(entries) == 2
        assert [(student, problems[0].rule) for student, _, problems in invalid] == [("mallory", "too-deep")]
        assert f"more than {MAX_DEPTH} levels deep" in str(invalid[0][2][0])
        code, out, err = run("leaderboard", str(root))
        assert code == 0 and "Traceback" not in err and "2 ranked, 1 invalid" in out, err
        old = tmp_path / "old.json"
        old.write_text(json.dumps(VALID))
        code, out, err = run("compare", str(old), str(root))
        assert code == 2 and "Traceback" not in err and "too-deep" in out, err
        assert all(len(line) <= 500 for line in out.splitlines())

    def test_a_folder_or_file_that_cannot_be_read_is_that_students_problem(self, tmp_path):
        root = tree(tmp_path / "autograded", dict(list(example_class(4, seed=5).items())))
        locked, unreadable = sorted(p.name for p in root.iterdir())[:2]
        (root / locked / "capstone").chmod(0)
        (root / unreadable / "capstone" / "results.json").chmod(0)
        command = [sys.executable, "-m", "tinytorch.olympics.cli", "leaderboard", str(root)]
        if os.geteuid() == 0:   # root reads anything: drop the capabilities that let it, so permissions bite
            setpriv = shutil.which("setpriv")
            assert setpriv, "util-linux's setpriv is needed to run this as root"
            command = [setpriv, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", *command]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        finally:
            (root / locked / "capstone").chmod(0o755)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
        assert "2 ranked, 2 invalid" in done.stdout
        assert f"  {locked}: $: [readable] cannot enter the folder: Permission denied" in done.stdout
        assert f"  {unreadable}: $: [readable] cannot read the file: Permission denied" in done.stdout

    def test_a_fifo_named_like_a_results_file_is_that_students_problem_and_no_hang(self, tmp_path):
        root = tree(tmp_path / "autograded", dict(list(example_class(2).items())))
        (root / "mallory").mkdir()
        os.mkfifo(root / "mallory" / "results.json")
        entries, invalid = collect([str(root)])
        assert len(entries) == 2 and [(s, path) for s, path, _ in invalid] == [
            ("mallory", str(root / "mallory" / "results.json"))]
        assert "FIFO" in str(invalid[0][2][0])


class TestOutputErrors:
    @pytest.mark.parametrize("where", ["proc", "taken", "missing"])
    def test_an_output_folder_that_cannot_take_the_files_is_one_line_and_nothing_written(self, tmp_path, where):
        root = tree(tmp_path / "autograded", dict(list(example_class(3).items())))
        out = tmp_path / "site"
        out.mkdir()
        if where == "taken":
            (out / "leaderboard.html").mkdir()   # a name taken by a folder, met after the PNGs are drawn
        folder = "/proc/self" if where == "proc" else str(out / "gone") if where == "missing" else str(out)
        before = sorted(p.name for p in out.iterdir())
        code, _, err = run("leaderboard", str(root), "--out", folder)
        assert code == 2 and "Traceback" not in err, err
        # One line that names the folder (argparse puts its usage above a bad --out, as for any bad option).
        reasons = [line for line in err.splitlines() if line.startswith("tinytorch-olympics leaderboard")]
        assert len(reasons) == 1 and (folder in reasons[0] or "leaderboard.html" in reasons[0]), err
        assert sorted(p.name for p in out.iterdir()) == before

    def test_plot_into_a_folder_where_one_name_is_taken_writes_none(self, tmp_path):
        (tmp_path / "results.json").write_text(json.dumps(VALID))
        (tmp_path / "results_waterfall.png").mkdir()
        code, out, err = run("plot", str(tmp_path / "results.json"))
        assert code == 2 and "results_waterfall.png" in err and "wrote" not in out
        assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "results_waterfall.png"]


class TestCSVInjection:
    @pytest.mark.parametrize("student", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "a\x1b[31mb"])
    def test_a_cell_a_spreadsheet_would_run_is_quoted_and_escapes_are_visible(self, tmp_path, student):
        root = tree(tmp_path / "autograded", {student: VALID})
        code, _, err = run("leaderboard", str(root), "--out", str(tmp_path))
        assert code == 0, err
        text = (tmp_path / "leaderboard.csv").read_text(encoding="utf-8")
        assert "\x1b" not in text
        cells = [row[3] for row in csv.reader(io.StringIO(text))][1:]
        assert cells and all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), cells


class TestOneFileOnePlace:
    def test_a_symlinked_results_file_is_refused_and_ranks_nobody_with_another_students_figures(self, tmp_path):
        root = tree(tmp_path / "autograded", {"alice": VALID})
        (root / "mallory" / "capstone").mkdir(parents=True)
        (root / "mallory" / "capstone" / "results.json").symlink_to(root / "alice" / "capstone" / "results.json")
        (root / "eve").symlink_to("/etc")
        entries, invalid = collect([str(root)])
        assert [e.student for e in entries] == ["alice"]
        assert sorted(student for student, _, _ in invalid) == ["eve", "mallory"]

    def test_the_same_file_given_twice_or_by_two_paths_takes_one_place(self, tmp_path):
        root = tree(tmp_path / "autograded", {"alice": VALID})
        path = root / "alice" / "capstone" / "results.json"
        entries, invalid = collect([str(path), str(root), str(tmp_path / "autograded" / "." / "alice")])
        assert len(entries) == 1 and {p.rule for _, _, problems in invalid for p in problems} == {"same-file"}

    def test_all_around_sums_each_entrys_own_ranks_even_when_two_share_a_name(self):
        def entry(path: str, latency: float, accuracy: float) -> Entry:
            return Entry("alice", path, "optimized", latency, (latency, latency), 10_000, accuracy,
                         (accuracy, accuracy), 3.0)
        fast, slow = entry("a/results.json", 0.001, 0.95), entry("b/results.json", 0.009, 0.50)
        all_around = {e.name: e for e in rank([fast, slow])}["All-Around"]
        assert [s.entry.path for s in all_around.standings] == ["a/results.json"]   # the 0.50 one is ineligible


class TestIntervalsAreRecomputed:
    def test_an_accuracy_interval_labelled_wilson_must_be_wilsons(self):
        doc = copy.deepcopy(VALID)
        doc["optimized"]["metrics"]["accuracy_ci"].update(low=0.0, high=1.0)
        assert {(p.path, p.rule) for p in submission_problems(doc)} == {
            ("$.optimized.metrics.accuracy_ci", "interval-method")}

    def test_an_interval_whose_method_cannot_be_checked_ties_nobody_on_the_leaderboard(self, tmp_path):
        documents = dict(list(example_class(6, seed=3).items()))
        top = max(documents, key=lambda s: documents[s]["optimized"]["metrics"]["accuracy"])
        wide = documents[top]["optimized"]["metrics"]
        wide["accuracy_ci"].update(low=0.0, high=1.0, method="bootstrap, 10 resamples")
        wide["latency"].update(median_ci=[wide["latency"]["min"], wide["latency"]["max"]],
                               median_ci_method="a guess")
        assert submission_problems(documents[top]) == []
        entries, _ = collect([str(tree(tmp_path / "autograded", documents))])
        events = {e.name: e for e in rank(entries)}
        contest = events["Accuracy Contest"].standings
        assert contest[0].entry.student == top
        assert sum(s.tied and s.rank == 1 for s in contest) < len(contest)

    def test_a_student_t_interval_without_samples_is_recomputed_from_mean_std_and_n(self):
        doc = copy.deepcopy(VALID)
        latency = doc["baseline"]["metrics"]["latency"]
        del latency["samples_ms"]
        assert submission_problems(doc) == []
        latency["mean_ci"] = [0.0, latency["max"]]
        assert ("$.baseline.metrics.latency.mean_ci", "interval-method") in {
            (p.path, p.rule) for p in submission_problems(doc)}


class TestNumbersAtTheEdges:
    @pytest.mark.parametrize("value", [1e306, 1.7e308, 3_600_001.0])
    def test_a_latency_beyond_an_hour_is_refused_so_no_conversion_overflows(self, tmp_path, value):
        doc = copy.deepcopy(VALID)
        latency = doc["optimized"]["metrics"]["latency"]
        latency["max"] = latency["p99"] = value
        rules = {p.rule for p in submission_problems(doc)}
        assert "maximum" in rules
        path = tmp_path / "results.json"
        path.write_text(json.dumps(doc))
        for argv in (["plot", str(path)], ["leaderboard", str(path)], ["compare", str(path), str(path)]):
            code, out, err = run(*argv)
            assert code != 0 and "Traceback" not in err and "inf" not in out.split(), (argv, err)


class TestLog:
    @pytest.fixture
    def results(self, tmp_path) -> str:
        # Here, not in the class body: there it would skip this whole module where mlflow is absent.
        pytest.importorskip("mlflow", reason="the mlflow extra is not installed")
        path = tmp_path / "results.json"
        path.write_text(json.dumps(VALID))
        return str(path)

    def _log(self, results: str, *argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "tinytorch.olympics.cli", "log", results, *argv]
        return subprocess.run(command, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})})

    @pytest.mark.parametrize("uri", ["notascheme://nowhere", "sqlite:///{folder}/notadb.db", "sqlite:///{ro}/x.db"])
    def test_a_store_that_cannot_be_opened_is_one_line_and_exit_2(self, results, tmp_path, uri):
        (tmp_path / "notadb.db").write_text("this is not a database\n" * 100)
        readonly = tmp_path / "ro"
        readonly.write_text("a file where a folder should be")
        done = self._log(results, "--tracking-uri", uri.format(folder=tmp_path, ro=readonly))
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
        assert [line for line in done.stderr.splitlines() if line.startswith("tinytorch-olympics log:")], done.stderr

    def test_a_server_that_never_answers_costs_bounded_retries_not_minutes(self, results):
        with socket.socket() as silent:   # accepts connections (the backlog) and never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            port = silent.getsockname()[1]
            done = self._log(results, "--tracking-uri", f"http://127.0.0.1:{port}",
                             env={"MLFLOW_HTTP_REQUEST_TIMEOUT": "1"})
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]

    @pytest.mark.parametrize("name", ["", "   ", "a\nb", "x" * 201])
    def test_an_experiment_name_that_is_empty_or_not_printable_is_refused_before_anything(self, results, tmp_path,
                                                                                           name):
        code, _, err = run("log", results, "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}", "--experiment", name)
        assert code == 2 and "experiment name" in err and not (tmp_path / "m.db").exists()

    def test_the_experiment_name_is_printed_as_given_not_escaped_twice(self, results, tmp_path):
        code, out, err = run("log", results, "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}",
                             "--experiment", "it's a \\ test")
        assert code == 0, err
        assert "in experiment 'it's a \\ test'" in out


class TestCompare:
    def test_a_model_missing_from_new_is_named_and_fails(self, tmp_path):
        old, new = tmp_path / "old.json", tmp_path / "new.json"
        old.write_text(json.dumps(VALID))
        new.write_text(json.dumps(BASELINE_ONLY))
        for fail_on in ("latency", "size", "accuracy"):
            code, out, _ = run("compare", str(old), str(new), "--fail-on", fail_on)
            assert code == 1 and f"optimized: in {old}, missing from {new}" in out and "optimized missing" in out

    def test_every_line_is_cut_and_escaped(self, tmp_path):
        folder = tmp_path
        for _ in range(6):
            folder = folder / ("\x1b[2J" + "n" * 200)
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps(VALID))
        old = tmp_path / "old.json"
        old.write_text(json.dumps(VALID))
        code, out, _ = run("compare", str(old), str(tmp_path))
        assert "\x1b" not in out and all(len(line) <= 500 for line in out.splitlines())


def _with_latency(doc: dict, samples: list[float], model: str = "optimized") -> dict:
    """``doc`` whose ``model`` latency is what ``samples`` give (statistics by the project's BenchmarkResult)."""
    from tinytorch.perf.benchmarking import BenchmarkResult

    doc = copy.deepcopy(doc)
    stats = BenchmarkResult(samples, warmup_runs=2).to_dict()
    metrics = doc[model]["metrics"]
    metrics["latency_ms_mean"], metrics["latency_ms_std"] = stats["mean"], stats["std"]
    metrics["latency"].update({k: stats[k] for k in (
        "n", "median", "p90", "p99", "min", "max", "mean_ci", "median_ci", "outliers", "stable", "stability_reason",
        "warmup_runs")}, samples_ms=list(samples))
    doc[model]["benchmark_config"].update(num_runs=len(samples), warmup_runs=2)
    b, o = doc["baseline"]["metrics"], doc["optimized"]["metrics"]
    doc["improvements"]["speedup"] = b["latency_ms_mean"] / o["latency_ms_mean"]
    return doc


class TestWhatAReviewerFound:
    """The cases of an audit by someone who had not seen the code (each named as in its report)."""

    def test_L01_an_interval_spanning_everything_does_not_tie_the_fastest(self, tmp_path):
        documents = dict(list(example_class(5, seed=2).items()))
        documents["n6cheat"] = _with_latency(next(iter(documents.values())), [0.01] * 3 + [3.6e6] * 3)
        assert submission_problems(documents["n6cheat"]) == []
        entries, _ = collect([str(tree(tmp_path / "autograded", documents))])
        sprint = {e.name: e for e in rank(entries, Rules(min_accuracy=0.0))}["Latency Sprint"].standings
        cheat = next(s for s in sprint if s.entry.student == "n6cheat")
        assert cheat.rank == len(sprint) and not cheat.tied

    @pytest.mark.parametrize("change", ["tiny test set", "other dataset", "inflated baseline"])
    def test_L02_L03_L04_an_entry_measured_unlike_the_class_is_listed_not_ranked(self, tmp_path, change):
        documents = dict(list(example_class(5, seed=2).items()))
        odd = copy.deepcopy(next(iter(documents.values())))
        for name in ("baseline", "optimized"):
            m, config = odd[name]["metrics"], odd[name]["benchmark_config"]
            if change == "tiny test set":
                m["accuracy"], m["accuracy_ci"]["n_samples"], config["dataset"]["n_samples"] = 1.0, 1, 1
                m["accuracy_ci"].update(low=0.025, high=1.0, method="Clopper-Pearson")
            elif change == "other dataset":
                config["dataset"].update(name="trivial", sha256="0" * 64)
        if change == "inflated baseline":
            odd["baseline"]["metrics"].update(model_size_bytes=10**12, model_size_mb=10**6, parameter_count=10**12)
            odd["improvements"]["compression_ratio"] = 10**6 / odd["optimized"]["metrics"]["model_size_mb"]
        odd["improvements"]["accuracy_delta"] = (odd["optimized"]["metrics"]["accuracy"]
                                                 - odd["baseline"]["metrics"]["accuracy"])
        documents["odd"] = odd
        entries, invalid = collect([str(tree(tmp_path / "autograded", documents))])
        assert "odd" not in {e.student for e in entries} and len(entries) == 5
        assert [(s, p[0].rule) for s, _, p in invalid] == [("odd", "not-the-class")], invalid

    def test_L03_in_a_class_of_two_that_disagree_the_test_set_is_the_capstones_own(self, tmp_path):
        documents = dict(list(example_class(1, seed=2).items()))
        odd = copy.deepcopy(next(iter(documents.values())))
        for name in ("baseline", "optimized"):
            odd[name]["benchmark_config"]["dataset"].update(name="trivial", sha256="0" * 64)
        documents["odd"] = odd
        entries, invalid = collect([str(tree(tmp_path / "autograded", documents))])
        assert [e.student for e in entries] == ["student0001"] and [s for s, _, _ in invalid] == ["odd"]

    def test_L07_a_hard_link_or_a_copy_of_another_students_file_enters_for_nobody(self, tmp_path):
        documents = dict(list(example_class(3, seed=2).items()))
        root = tree(tmp_path / "autograded", documents)
        alice = root / next(iter(documents)) / "capstone" / "results.json"
        (root / "aaron" / "capstone").mkdir(parents=True)
        os.link(alice, root / "aaron" / "capstone" / "results.json")
        (root / "copycat" / "capstone").mkdir(parents=True)
        (root / "copycat" / "capstone" / "results.json").write_bytes(alice.read_bytes())
        entries, invalid = collect([str(root)])
        assert len(entries) == 2 and {s for s, _, _ in invalid} == {"aaron", "copycat", next(iter(documents))}
        assert {p[0].rule for _, _, p in invalid} == {"copy"}

    def test_L11_a_median_of_zero_does_not_enter_the_sprint(self, tmp_path):
        documents = dict(list(example_class(3, seed=2).items()))
        documents["zero"] = _with_latency(next(iter(documents.values())), [0.0] * 45 + [0.01] * 5)
        entries, _ = collect([str(tree(tmp_path / "autograded", documents))])
        sprint = {e.name: e for e in rank(entries, Rules(min_accuracy=0.0))}["Latency Sprint"].standings
        assert len(sprint) == 3 and "zero" in {e.student for e in entries}
        assert "zero" not in {s.entry.student for s in sprint}

    def test_L14_files_or_student_folders_given_one_by_one_are_named_for_their_students(self, tmp_path):
        documents = dict(list(example_class(3, seed=2).items()))
        root = tree(tmp_path / "autograded", documents)
        files = [str(root / s / "capstone" / "results.json") for s in documents]
        folders = [str(root / s) for s in documents]
        for given in (files, folders):
            entries, invalid = collect(given)
            assert sorted(e.student for e in entries) == sorted(documents) and not invalid

    def test_P02_plot_reads_no_link_and_writes_nowhere_a_link_leads(self, tmp_path):
        elsewhere = tmp_path / "instructor"
        elsewhere.mkdir()
        (elsewhere / "results.json").write_text(json.dumps(VALID))
        (tmp_path / "m1").mkdir()
        (tmp_path / "m1" / "results.json").symlink_to(elsewhere / "results.json")
        (tmp_path / "m2").symlink_to(elsewhere)
        assert run("plot", str(tmp_path / "m1" / "results.json"))[0] == 1
        code, _, err = run("plot", str(tmp_path / "m2" / "results.json"))
        assert code == 2 and "reached through a link" in err
        assert sorted(p.name for p in elsewhere.iterdir()) == ["results.json"]

    def _compare(self, tmp_path: Path, old: dict, new: dict) -> tuple[int, str]:
        b, o = new["baseline"]["metrics"], new["optimized"]["metrics"]
        new["improvements"].update(speedup=b["latency_ms_mean"] / o["latency_ms_mean"],
                                   accuracy_delta=o["accuracy"] - b["accuracy"])
        assert submission_problems(old) == [] and submission_problems(new) == [], submission_problems(new)
        (tmp_path / "old.json").write_text(json.dumps(old))
        (tmp_path / "new.json").write_text(json.dumps(new))
        code, out, _ = run("compare", str(tmp_path / "old.json"), str(tmp_path / "new.json"))
        return code, out

    def test_C03_an_interval_spanning_everything_hides_no_latency_regression(self, tmp_path):
        old, new = copy.deepcopy(VALID), copy.deepcopy(VALID)
        del old["optimized"]["metrics"]["latency"]["samples_ms"]
        latency = new["optimized"]["metrics"]["latency"]
        del latency["samples_ms"]
        for key in ("median", "p90", "p99", "max", "min"):
            latency[key] *= 100
        latency.update(median_ci=[latency["min"], latency["max"]], mean_ci=[latency["min"], latency["max"]],
                       mean_ci_method="a guess", median_ci_method="a guess")
        new["optimized"]["metrics"]["latency_ms_mean"] *= 100
        new["optimized"]["metrics"]["latency_ms_std"] *= 100
        code, out = self._compare(tmp_path, old, new)
        assert code == 1 and "regression in optimized latency" in out, out

    def test_C04_a_tiny_test_set_is_said_and_hides_no_accuracy_drop(self, tmp_path):
        from tinytorch.perf.distributions import clopper_pearson

        old, new = copy.deepcopy(VALID), copy.deepcopy(VALID)
        for name, correct in (("baseline", 5), ("optimized", 4)):
            low, high = clopper_pearson(correct, 5)
            new[name]["metrics"].update(accuracy=correct / 5, accuracy_ci={
                "low": low, "high": high, "confidence_level": 0.95, "method": "Clopper-Pearson", "n_samples": 5})
            new[name]["benchmark_config"]["dataset"]["n_samples"] = 5
        code, out = self._compare(tmp_path, old, new)
        assert code == 1 and "regression in" in out and "optimized accuracy" in out, out
        assert "test set n_samples: 359 -> 5" in out

    def test_C01_a_model_only_new_holds_is_named(self, tmp_path):
        old, new = tmp_path / "old.json", tmp_path / "new.json"
        old.write_text(json.dumps(BASELINE_ONLY))
        new.write_text(json.dumps(VALID))
        _, out, _ = run("compare", str(old), str(new))
        assert f"optimized: only in {new}, not in {old}" in out

    def test_L05_control_and_bidi_characters_in_a_folder_name_are_shown_in_the_page_not_obeyed(self, tmp_path):
        root = tree(tmp_path / "autograded", {"bidi\u202egnp.exe": VALID, "esc\x1b[2J": BASELINE_ONLY})
        assert run("leaderboard", str(root), "--out", str(tmp_path))[0] == 0
        page = (tmp_path / "leaderboard.html").read_text(encoding="utf-8")
        assert "\u202e" not in page and "\x1b" not in page and "\\u202e" in page

    def test_L17_fewer_stored_bits_than_parameters_is_refused(self):
        doc = copy.deepcopy(VALID)
        doc["optimized"]["metrics"].update(model_size_bytes=1, model_size_mb=1e-6)
        assert "size-floor" in {p.rule for p in submission_problems(doc)}
        doc["optimized"]["metrics"]["parameter_count"] = 0
        assert "minimum" in {p.rule for p in submission_problems(doc)}


class TestCostIsBounded:
    """What the schema's caps buy: a verdict whose size, like its cost, does not grow with the file
    (the time on the largest files is benchmarks/hostile_files.py's, as a ratio to a typical file)."""

    def test_an_array_past_its_cap_is_refused_by_its_length_and_not_recomputed_from(self):
        doc = copy.deepcopy(VALID)
        doc["baseline"]["metrics"]["latency"]["samples_ms"] = [0.5] * 600_000
        problems = submission_problems(doc)
        assert [(p.path, p.rule) for p in problems] == [("$.baseline.metrics.latency.samples_ms", "maxItems")]

    def test_items_out_of_range_are_listed_twenty_times_and_then_counted(self):
        doc = copy.deepcopy(VALID)
        doc["baseline"]["metrics"]["latency"]["samples_ms"] = [-1.0] * 5000 + [1e300] * 7
        found = [p for p in submission_problems(doc) if p.path.startswith("$.baseline.metrics.latency.samples_ms[")]
        assert sorted(p.path for p in found) == sorted(f"$.baseline.metrics.latency.samples_ms[{i}]" for i in range(20))
        assert all(p.message == "-1.0 is less than the minimum of 0" for p in found)
        summaries = [p for p in submission_problems(doc) if p.path == "$.baseline.metrics.latency.samples_ms"]
        assert {(p.rule, p.message) for p in summaries if p.message.startswith("and ")} == {
            ("minimum", "and 4,980 more items beyond the minimum of 0"),
            ("maximum", "and 7 more items beyond the maximum of 3.6e+06")}
