"""The environment is defined once; the conda file, Binder and CI agree with it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
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
    assert files == ["README.md", "postBuild", "requirements.txt", "runtime.txt"], \
        "repo2docker reads only binder/ once it exists"
    lines = [ln for ln in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines == ["-e .[dev]"], "Binder must install the package, not repeat its dependency list"
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert runtime == "python-" + conda_python.split("=", 1)[1], "Binder and environment.yml must use one Python"
    assert runtime.split("-", 1)[1] + ".0" in SpecifierSet(PYPROJECT["project"]["requires-python"])


def test_the_instructor_binder_says_which_edition_it_is():
    for name in ("README.md", "postBuild", "requirements.txt"):
        assert "INSTRUCTOR EDITION" in (ROOT / "binder" / name).read_text(), f"binder/{name} must say it"
    assert "student edition" in (ROOT / "binder" / "README.md").read_text()


def isolated_environment(root: Path) -> Path:
    """A Python environment whose own prefix is `root` but which sees this one's packages.

    postBuild writes Jupyter settings into its environment's prefix (as on Binder); running it
    in a child environment keeps the test from touching the environment that runs the tests.
    The child starts with this environment's Jupyter configuration, as a pip install would.
    """
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(root)], check=True)
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    child_site = Path(subprocess.run([str(root / "bin" / "python"), "-c", purelib],
                                     check=True, capture_output=True, text=True).stdout.strip())
    (child_site / "parent.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    shutil.copytree(Path(sys.prefix) / "etc" / "jupyter", root / "etc" / "jupyter")
    return root


def extension_states(python: Path, env: dict) -> dict[str, str]:
    """{nbgrader server extension: enabled or disabled} in the environment of ``python``."""
    server = subprocess.run([str(python), "-m", "jupyter_server.extension.serverextension", "list"],
                            env=env, capture_output=True, text=True, check=True)
    return dict(re.findall(r"^\s+(nbgrader\.server_extensions\.\w+)\s+(?:\x1b\[\d+m)?(enabled|disabled)",
                           server.stdout + server.stderr, re.M))


@pytest.mark.slow
def test_instructor_binder_builds_the_course_and_keeps_the_instructor_tools(tmp_path):
    shutil.copytree(ROOT / "binder", tmp_path / "binder")
    (tmp_path / "notebooks").mkdir()
    for name in ("capstone.py", "nbgrader_config.py"):
        shutil.copy(ROOT / "notebooks" / name, tmp_path / "notebooks" / name)
    prefix = isolated_environment(tmp_path / "env")
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "user-config"),
               PATH=os.pathsep.join([str(prefix / "bin"), str(Path(sys.executable).parent),
                                     os.environ.get("PATH", "")]))
    build = subprocess.run(["bash", "binder/postBuild"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    assert "BEGIN SOLUTION" in (tmp_path / "notebooks" / "source" / "capstone" / "capstone.ipynb").read_text()
    assert (tmp_path / "notebooks" / "release" / "capstone" / "capstone.ipynb").exists()
    assert extension_states(prefix / "bin" / "python", env)["nbgrader.server_extensions.formgrader"] == "enabled"


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
