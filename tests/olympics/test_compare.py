"""compare: regression detection between results files, with a significance test and a minimum effect."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from tinytorch.olympics.cli import main
from tinytorch.olympics.compare import compare_documents, regressions, system_differences
from tinytorch.perf.comparison import median_ratio

from .conftest import with_samples


def _latency_samples(seed: int, scale: float = 1.0, n: int = 200) -> list[float]:
    return list(np.random.default_rng(seed).lognormal(np.log(0.013), 0.05, n) * scale)


@pytest.fixture
def old(baseline_only):
    return with_samples(baseline_only, _latency_samples(0))


def _write(tmp_path, name: str, doc: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def _verdicts(changes) -> dict[str, str]:
    return {f"{c.model} {c.metric}": c.verdict for c in changes}


def test_two_runs_of_the_same_model_show_no_significant_change(old, baseline_only, tmp_path, capsys):
    again = with_samples(baseline_only, _latency_samples(1))
    changes = compare_documents(old, again)
    assert set(_verdicts(changes).values()) == {"no significant change"}
    assert main(["compare", _write(tmp_path, "old.json", old), _write(tmp_path, "new.json", again)]) == 0
    assert "no significant regression in latency, accuracy, size" in capsys.readouterr().out


def test_an_injected_20_percent_regression_fails_with_exit_1(old, baseline_only, tmp_path, capsys):
    slower = with_samples(baseline_only, _latency_samples(1, scale=1.2))
    [latency] = [c for c in compare_documents(old, slower) if c.metric == "latency"]
    assert latency.verdict == "worse" and latency.p_value < 1e-6 and latency.ratio == pytest.approx(1.2, rel=0.03)
    assert main(["compare", _write(tmp_path, "old.json", old), _write(tmp_path, "new.json", slower)]) == 1
    out = capsys.readouterr().out
    assert "regression in baseline latency" in out and "worse (p = " in out


def test_a_clear_but_small_change_needs_the_minimum_effect(old, baseline_only):
    slightly = with_samples(baseline_only, _latency_samples(1, scale=1.05))
    assert median_ratio(old["baseline"]["metrics"]["latency"]["samples_ms"],
                        slightly["baseline"]["metrics"]["latency"]["samples_ms"]).verdict == "slower"
    assert _verdicts(compare_documents(old, slightly))["baseline latency"] == "no significant change"
    assert _verdicts(compare_documents(old, slightly, min_effect=1.03))["baseline latency"] == "worse"


def test_a_speedup_is_better_and_never_a_regression(old, baseline_only):
    faster = with_samples(baseline_only, _latency_samples(1, scale=0.7))
    changes = compare_documents(old, faster)
    assert _verdicts(changes)["baseline latency"] == "better" and regressions(changes) == []


def test_a_large_change_of_the_median_that_the_samples_do_not_support_is_not_claimed(old, baseline_only):
    # Half the calls far faster, half far slower: the median moves 1.8x, but neither side tends
    # to be larger than the other (U is exactly n1*n2/2), so nothing is claimed.
    split = with_samples(baseline_only, [0.0065] * 6 + [0.04] * 6)
    [latency] = [c for c in compare_documents(old, split) if c.metric == "latency"]
    assert latency.ratio > 1.5 and latency.p_value == pytest.approx(1.0, abs=0.01)
    assert latency.verdict == "no significant change"


def test_without_samples_latency_is_judged_by_its_median_intervals(old):
    def without_samples(doc: dict, factor: float, ci_width: float) -> dict:
        doc = copy.deepcopy(doc)
        lat = doc["baseline"]["metrics"]["latency"]
        del lat["samples_ms"]
        lat["median"] *= factor
        lat["median_ci"] = [lat["median"] * (1 - ci_width), lat["median"] * (1 + ci_width)]
        return doc

    reference = without_samples(old, 1.0, 0.05)
    assert _verdicts(compare_documents(reference, without_samples(old, 1.3, 0.05)))["baseline latency"] == "worse"
    # Each median within the other's interval: the intervals cannot tell them apart.
    overlapping = compare_documents(without_samples(old, 1.0, 0.35), without_samples(old, 1.3, 0.3))
    assert _verdicts(overlapping)["baseline latency"] == "no significant change"
    assert "neither median within the other's 95% interval" in overlapping[0].method
    # A wide interval on one side alone hides nothing: the tight side's interval excludes the other median.
    assert _verdicts(compare_documents(reference, without_samples(old, 1.3, 0.3)))["baseline latency"] == "worse"


def test_accuracy_is_judged_by_its_wilson_intervals_and_size_by_its_bytes(old):
    worse = copy.deepcopy(old)
    metrics = worse["baseline"]["metrics"]
    metrics["accuracy"], metrics["accuracy_ci"]["low"], metrics["accuracy_ci"]["high"] = 0.5, 0.45, 0.55
    metrics["model_size_bytes"] *= 2
    verdicts = _verdicts(compare_documents(old, worse))
    assert verdicts["baseline accuracy"] == "worse" and verdicts["baseline size"] == "worse"
    assert [c.metric for c in regressions(compare_documents(old, worse), ("latency",))] == []


def test_fail_on_chooses_which_regressions_fail(old, tmp_path):
    worse = copy.deepcopy(old)
    worse["baseline"]["metrics"]["model_size_bytes"] *= 2
    worse["baseline"]["metrics"]["model_size_mb"] *= 2
    old_path, new_path = _write(tmp_path, "old.json", old), _write(tmp_path, "new.json", worse)
    assert main(["compare", old_path, new_path]) == 1
    assert main(["compare", old_path, new_path, "--fail-on", "latency,accuracy"]) == 0


def test_different_systems_are_named_in_a_warning(old, tmp_path, capsys):
    elsewhere = copy.deepcopy(old)
    elsewhere["system_info"]["cpu_model"] = "Another CPU"
    elsewhere["system_info"]["blas"]["threads"] = 64
    assert system_differences(old, elsewhere) == [
        f"cpu_model: {old['system_info']['cpu_model']!r} -> 'Another CPU'",
        f"blas threads: {old['system_info']['blas']['threads']!r} -> 64"]
    main(["compare", _write(tmp_path, "old.json", old), _write(tmp_path, "new.json", elsewhere)])
    assert "warning: the two files come from different systems" in capsys.readouterr().out


def test_a_folder_of_results_is_compared_file_by_file(old, baseline_only, tmp_path, capsys):
    folder = tmp_path / "class"
    (folder / "ada").mkdir(parents=True)
    (folder / "bob").mkdir()
    _write(folder / "ada", "results.json", with_samples(baseline_only, _latency_samples(1)))
    _write(folder / "bob", "results.json", with_samples(baseline_only, _latency_samples(2, scale=1.5)))
    assert main(["compare", _write(tmp_path, "old.json", old), str(folder)]) == 1
    out = capsys.readouterr().out
    assert "1 of 2 files regressed; 0 invalid" in out
    assert out.index("ada/results.json against") < out.index("bob/results.json against")


def test_an_invalid_file_is_listed_with_its_problems_and_exits_2(old, tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert main(["compare", _write(tmp_path, "old.json", old), str(broken)]) == 2
    assert "broken.json: $: [json] not JSON" in capsys.readouterr().out
    assert main(["compare", str(broken), _write(tmp_path, "new.json", old)]) == 2


@pytest.mark.parametrize("args, message", [
    (["--fail-on", "speed"], "argument --fail-on: unknown metric 'speed'; known: latency, accuracy, size"),
    (["--min-effect", "0.9"], "argument --min-effect: must be a finite factor of at least 1, got 0.9"),
    (["--min-effect", "nan"], "argument --min-effect: must be a finite factor of at least 1, got nan"),
])
def test_bad_options_are_refused_before_anything_is_read(capsys, args, message):
    with pytest.raises(SystemExit) as info:
        main(["compare", "old.json", "new.json", *args])
    assert info.value.code == 2 and message in capsys.readouterr().err
