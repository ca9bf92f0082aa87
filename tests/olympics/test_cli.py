"""tinytorch-olympics: validate prints one line per problem and never a traceback; run writes a valid file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tinytorch.olympics.cli import MAX_FILE_BYTES, main

from .conftest import EXAMPLES


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinytorch.olympics.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_validate_accepts_the_valid_examples():
    out = cli("validate", *map(str, sorted((EXAMPLES / "valid").glob("*.json"))))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count(": valid") == 2 and "2 of 2 files valid" in out.stdout


def test_validate_names_file_path_and_rule_for_each_problem(tmp_path, optimized):
    optimized["baseline"]["metrics"]["accuracy"] = 97.0
    optimized["improvements"]["speedup"] = 1 / optimized["improvements"]["speedup"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(optimized))
    out = cli("validate", str(bad))
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
    out = cli("validate", str(path))
    assert out.returncode == 1 and fragment in out.stdout, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_validate_refuses_huge_and_missing_files(tmp_path):
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (MAX_FILE_BYTES + 1))
    missing = tmp_path / "missing.json"
    out = cli("validate", str(huge), str(missing))
    assert out.returncode == 1
    assert f"{huge}: $: [size] the file is more than 5,000,000 bytes" in out.stdout
    assert f"{missing}: $: [readable] cannot read the file" in out.stdout
    assert "0 of 2 files valid" in out.stdout


def test_run_writes_a_validated_results_file_and_prints_a_summary(tmp_path):
    out = cli("run", "--quiet", "--runs", "20", "--warmup", "2", "--epochs", "5", "-o", "res.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "[4/4] wrote res.json" in out.stdout and "speedup" in out.stdout
    doc = json.loads((tmp_path / "res.json").read_text())
    assert doc["optimized"]["techniques_applied"] == ["structured_pruning(0.4)", "int8_quantization", "fusion"]
    assert doc["baseline"]["benchmark_config"]["num_runs"] == 20
    assert cli("validate", str(tmp_path / "res.json")).returncode == 0
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["res_latency.png", "res_tradeoff.png", "res_waterfall.png"]


@pytest.mark.parametrize("args, fragment", [
    (["--stack", "prune:0.4,teleport"], "unknown optimization 'teleport'"),
    (["--stack", "quantize,prune:0.4"], "cannot prune a quantized model"),
    (["--stack", "prune:1.5"], "amount must be in [0, 1)"),
    (["-o", "no/such/dir/res.json"], "argument --output/-o: the folder no/such/dir does not exist"),
    (["--warmup", "-1"], "argument --warmup: must be at least 0, got -1"),
    (["--seed", "-3"], "argument --seed: must be at least 0, got -3"),
    (["--runs", "many"], "argument --runs: must be a whole number, got 'many'"),
])
def test_run_refuses_bad_options_with_a_message(tmp_path, args, fragment):
    out = cli("run", "--quiet", "--runs", "10", "--warmup", "1", "--epochs", "1", *args, cwd=tmp_path)
    assert out.returncode in (1, 2) and fragment in out.stderr, out.stdout + out.stderr
    assert "Traceback" not in out.stderr


def test_run_needs_enough_runs_for_a_median_interval(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "--runs", "5"])
    assert info.value.code == 2 and "argument --runs: must be at least 6, got 5" in capsys.readouterr().err


def test_run_checks_where_it_will_write_before_it_measures(tmp_path, capsys, monkeypatch):
    measured = []
    monkeypatch.setattr("tinytorch.olympics.cli._run", lambda args: measured.append(args.output) or 0)
    folder = tmp_path / "out"
    folder.mkdir()
    assert main(["run", "-o", str(folder)]) == 0 and measured == [str(folder / "results.json")], \
        "a folder means results.json inside it"
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "results.json").mkdir()
    with pytest.raises(SystemExit):
        main(["run", "-o", str(tmp_path / "taken")])
    assert "exists and is not a regular file" in capsys.readouterr().err and len(measured) == 1
