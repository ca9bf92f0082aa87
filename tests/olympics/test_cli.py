"""tinytorch-olympics: validate prints one line per problem and never a traceback; run writes a valid file."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tinytorch.olympics import cli
from tinytorch.olympics.cli import main
from tinytorch.olympics.files import MAX_FILE_BYTES
from tinytorch.olympics.schema import Problem

from .conftest import EXAMPLES


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinytorch.olympics.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_validate_accepts_the_valid_examples():
    out = run_cli("validate", *map(str, sorted((EXAMPLES / "valid").glob("*.json"))))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count(": valid") == 3 and "3 of 3 files valid" in out.stdout


def test_validate_names_file_path_and_rule_for_each_problem(tmp_path, optimized):
    optimized["baseline"]["metrics"]["accuracy"] = 97.0
    optimized["improvements"]["speedup"] = 1 / optimized["improvements"]["speedup"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(optimized))
    out = run_cli("validate", str(bad))
    assert out.returncode == 1
    lines = out.stdout.strip().splitlines()
    assert f"{bad}: $.baseline.metrics.accuracy: [maximum]" in out.stdout
    assert f"{bad}: $.improvements.speedup: [improvements-agree]" in out.stdout
    assert all(line.startswith(f"{bad}: $") for line in lines)
    assert "Traceback" not in out.stderr and out.stderr == ""


@pytest.mark.parametrize("content, fragment", [
    (b"{not json", "[json] not JSON: Expecting property name"),
    (b'{"accuracy": NaN}', "[json] NaN is not valid JSON"),
    (b'{"speedup": Infinity}', "[json] Infinity is not valid JSON"),
    (b"\xff\xfe\x00garbage", "[encoding] not UTF-8"),
    (b"", "[json] not JSON: Expecting value"),
    (b"[1, 2]", "[type] a submission is a JSON object, not list"),
    (b"[" * 100_000 + b"]" * 100_000, "[json]"),
])
def test_validate_reports_unreadable_files_without_a_traceback(tmp_path, content, fragment):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    out = run_cli("validate", str(path))
    assert out.returncode == 1 and fragment in out.stdout, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_validate_refuses_huge_and_missing_files(tmp_path):
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (MAX_FILE_BYTES + 1))
    missing = tmp_path / "missing.json"
    out = run_cli("validate", str(huge), str(missing))
    assert out.returncode == 1
    assert f"{huge}: $: [size] the file is more than 5,000,000 bytes" in out.stdout
    assert f"{missing}: $: [readable] cannot read the file" in out.stdout
    assert "0 of 2 files valid" in out.stdout


def test_run_writes_a_validated_results_file_and_prints_a_summary(tmp_path):
    out = run_cli("run", "--quiet", "--num-runs", "20", "--warmup-runs", "2", "--epochs", "5", "-o", "res.json",
                  cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "[4/4] wrote res.json" in out.stdout and "speedup" in out.stdout
    doc = json.loads((tmp_path / "res.json").read_text())
    assert doc["optimized"]["techniques_applied"] == ["structured_pruning(0.4)", "int8_quantization", "fusion"]
    assert doc["baseline"]["benchmark_config"]["num_runs"] == 20
    assert run_cli("validate", str(tmp_path / "res.json")).returncode == 0
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "res_latency.png", "res_tradeoff.png", "res_waterfall.png"]


@pytest.mark.parametrize("args, fragment", [
    (["--stack", "prune:0.4,teleport"], "unknown optimization 'teleport'"),
    (["--stack", "quantize,prune:0.4"], "cannot prune a quantized model"),
    (["--stack", "prune:1.5"], "amount must be in [0, 1)"),
    (["-o", "no/such/dir/res.json"], "argument --output/-o: the folder no/such/dir does not exist"),
    (["--warmup-runs", "-1"], "argument --warmup-runs/--warmup: must be at least 0, got -1"),
    (["--seed", "-3"], "argument --seed: must be at least 0, got -3"),
    (["--num-runs", "many"], "argument --num-runs/--runs: must be a whole number, got 'many'"),
])
def test_run_refuses_bad_options_with_a_message(tmp_path, args, fragment):
    out = run_cli("run", "--quiet", "--num-runs", "10", "--warmup-runs", "1", "--epochs", "1", *args, cwd=tmp_path)
    assert out.returncode in (1, 2) and fragment in out.stderr, out.stdout + out.stderr
    assert "Traceback" not in out.stderr


def test_run_needs_enough_runs_for_a_median_interval(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "--num-runs", "5"])
    assert info.value.code == 2 and "argument --num-runs/--runs: must be at least 6, got 5" in capsys.readouterr().err


def test_run_checks_where_it_will_write_before_it_measures(tmp_path, capsys, monkeypatch):
    measured = []
    monkeypatch.setitem(cli.COMMANDS, "run", lambda args: measured.append(args.output) or 0)
    folder = tmp_path / "out"
    folder.mkdir()
    assert main(["run", "-o", str(folder)]) == 0 and measured == [str(folder / "results.json")], \
        "a folder means results.json inside it"
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "results.json").mkdir()
    with pytest.raises(SystemExit):
        main(["run", "-o", str(tmp_path / "taken")])
    assert "exists and is not a regular file" in capsys.readouterr().err and len(measured) == 1


def test_every_subcommand_of_the_parser_has_one_function_in_the_dispatch_table():
    parser = cli.create_parser()
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subcommands.choices) == set(cli.COMMANDS)
    assert all(callable(fn) and fn.__name__ == f"cmd_{name}" for name, fn in cli.COMMANDS.items())


@pytest.mark.parametrize("old, new, value", [("--runs", "--num-runs", 30), ("--warmup", "--warmup-runs", 4)])
def test_a_renamed_flag_still_works_and_says_its_new_name(monkeypatch, capsys, old, new, value):
    seen = []
    monkeypatch.setitem(cli.COMMANDS, "run", lambda args: seen.append(args) or 0)
    assert main(["run", old, str(value)]) == 0
    assert f"warning: {old} is renamed {new}" in capsys.readouterr().err
    assert getattr(seen[0], new.lstrip("-").replace("-", "_")) == value
    assert main(["run", new, str(value)]) == 0 and "renamed" not in capsys.readouterr().err


def test_a_stack_in_an_order_that_cannot_work_is_refused_before_anything_runs(monkeypatch, capsys):
    monkeypatch.setitem(cli.COMMANDS, "run", lambda args: pytest.fail("run started with a stack that cannot work"))
    with pytest.raises(SystemExit) as info:
        main(["run", "--stack", "fuse,quantize"])
    assert info.value.code == 2 and "argument --stack: cannot quantize a fused model" in capsys.readouterr().err


def test_formatting_returns_lines_that_say_what_was_measured():
    doc = json.loads((EXAMPLES / "valid" / "optimized.json").read_text())
    lines = cli.format_results(doc)
    assert lines[0].split()[:3] == ["model", "accuracy", "p50"]
    assert lines[1].startswith("baseline") and lines[2].startswith("optimized")
    assert f"speedup {doc['improvements']['speedup']:.2f}x" in "\n".join(lines)
    assert cli.format_problems("a.json", []) == ["a.json: valid"]
    problem = Problem("$.x", "type", "bad\nline")
    assert cli.format_problems("a.json", [problem]) == ["a.json: $.x: [type] bad\\x0aline"]


def test_the_old_names_of_file_reading_still_work_and_say_their_new_names():
    with pytest.warns(DeprecationWarning, match="files.load_and_check"):
        check_file = cli.check_file
    document, problems = check_file(str(EXAMPLES / "valid" / "optimized.json"))
    assert problems == [] and document["submission_type"] == "optimized"
    with pytest.warns(DeprecationWarning, match="files.load_submission_file"):
        assert cli.load_submission_file(str(EXAMPLES / "valid" / "optimized.json"))[1] == []
    with pytest.warns(DeprecationWarning, match="files.MAX_FILE_BYTES"):
        assert cli.MAX_FILE_BYTES == MAX_FILE_BYTES
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        cli.nonsense  # noqa: B018


def test_run_writes_nothing_the_validator_refuses_even_when_the_save_would_take_it(tmp_path, monkeypatch, capsys):
    """One validator at every gate: `run` checks with submission_problems, whatever the save function checks."""
    from tinytorch.instructor import reference

    lax = tmp_path / "lax.json"
    made = reference.generate_submission

    def with_an_unknown_key(*args, **kwargs):
        submission = made(*args, **kwargs)
        submission["baseline"]["metrics"]["latency_ms_median"] = 1.0
        return submission

    monkeypatch.setattr(reference, "generate_submission", with_an_unknown_key)
    monkeypatch.setattr(reference, "validate_submission_schema", lambda submission: True)
    code = main(["run", "--quiet", "--num-runs", "20", "--warmup-runs", "2", "--epochs", "2", "--stack", "",
                 "-o", str(lax)])
    err = capsys.readouterr().err
    assert code == 1 and not lax.exists()
    assert "the validator refuses them" in err and "latency_ms_median" in err
