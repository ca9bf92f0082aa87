"""The environment is defined once; the conda file, Binder and CI agree with it."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_matches_pyproject_dependencies():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    python = next(d for d in conda if d.startswith("python="))
    declared = {Requirement(r).name: str(Requirement(r).specifier) for r in PYPROJECT["project"]["dependencies"]}
    listed = {Requirement(d).name: str(Requirement(d).specifier) for d in conda
              if not d.startswith(("python=", "pip"))}
    assert listed == declared, "environment.yml must list pyproject's dependencies with the same specifiers"
    version = python.split("=", 1)[1] + ".0"
    assert version in SpecifierSet(PYPROJECT["project"]["requires-python"])
    pip_part = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert pip_part == ["-e .[dev]"], "environment.yml must install the package itself"


def test_binder_installs_the_package_and_defines_no_second_environment():
    files = sorted(p.name for p in (ROOT / "binder").iterdir())
    assert "environment.yml" not in files
    lines = [ln for ln in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines == ["-e ."]
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- two-commands -->\s*```(?:bash|sh)\n(.*?)```", text, re.S)
    assert block, "README must hold the two set-up commands in a marked code block"
    return [ln for ln in block.group(1).splitlines() if ln.strip() and not ln.startswith("#")]


def test_readme_has_two_commands_and_ci_runs_the_test_one():
    setup, tests = readme_commands()
    assert "pip install" in setup and setup.endswith("tinytorch-olympics run")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert tests in ci, f"the README's test command {tests!r} must appear verbatim in .ci/run"
    assert ci[-1] == tests, ".ci/run must end with the test command so its exit code is CI's"


@pytest.mark.slow
def test_built_wheel_ships_the_data_and_licence(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True)
    wheel = next(tmp_path.glob("tinytorch-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for required in ("tinytorch/datasets/digits.npz", "tinytorch/datasets/DIGITS_LICENSE.txt",
                     "tinytorch/schemas/submission.schema.json"):
        assert required in names
    for source in ROOT.joinpath("tinytorch").rglob("*.py"):
        assert source.relative_to(ROOT).as_posix() in names, f"{source} is missing from the wheel"
    assert not any(n.startswith("tests/") for n in names)
