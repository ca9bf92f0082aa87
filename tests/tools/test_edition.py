"""The student edition builder: what the folder holds, its links, and that it never half-replaces an edition."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import REPO
from tools.edition import MARKER, ROOT, EditionError, _toml, build, links, main, student_pyproject

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
_keys = st.text(min_size=1, max_size=8)
_values = st.one_of(st.text(max_size=12), st.integers(-10**6, 10**6), st.booleans(),
                  st.lists(st.one_of(st.text(max_size=6), st.integers(-99, 99))))
_tables = st.recursive(st.dictionaries(_keys, _values, max_size=4),
                       lambda inner: st.dictionaries(_keys, st.one_of(_values, inner), max_size=4), max_leaves=12)


@given(_tables)
def test_toml_writer_round_trips_plain_data(table):
    assert tomllib.loads(_toml(table)) == table


def test_student_pyproject_is_this_one_without_instructor_parts():
    student = tomllib.loads(student_pyproject(PYPROJECT))
    assert student["project"]["dependencies"] == PYPROJECT["project"]["dependencies"]
    assert student["project"]["scripts"] == PYPROJECT["project"]["scripts"]
    assert "optional-dependencies" not in student["project"]
    assert {"pytest", "ruff", "mypy"} & set(PYPROJECT["tool"]) == {"pytest", "ruff", "mypy"}
    assert not {"pytest", "ruff", "mypy"} & set(student["tool"]), "the development tools' settings stay here"
    packages = student["tool"]["setuptools"]["packages"]
    assert "tinytorch.instructor" in PYPROJECT["tool"]["setuptools"]["packages"]
    assert "tinytorch.instructor" not in packages and "tinytorch.olympics" in packages


def test_a_value_the_toml_writer_cannot_write_stops_the_build_with_its_name():
    with pytest.raises(EditionError, match=r"holds a dict \({'module': 'x'}\) inside a list"):
        _toml({"tool": {"overrides": [{"module": "x"}]}})


def test_links_open_the_notebook_on_binder_and_through_nbgitpuller():
    found = links("acme/capstone-2026", "spring", "https://hub.example.edu/")
    assert found["BINDER_URL"] == ("https://mybinder.org/v2/gh/acme/capstone-2026/spring"
                                   "?urlpath=lab/tree/capstone/capstone.ipynb")
    pull = urlsplit(found["NBGITPULLER_URL"])
    assert (pull.scheme, pull.netloc, pull.path) == ("https", "hub.example.edu", "/hub/user-redirect/git-pull")
    assert parse_qs(pull.query) == {"repo": ["https://github.com/acme/capstone-2026"], "branch": ["spring"],
                                    "urlpath": ["lab/tree/capstone-2026/capstone/capstone.ipynb"]}



@pytest.mark.nbgrader
def test_the_edition_holds_the_release_the_package_without_instructor_parts_and_its_own_setup(edition):
    files = {p.relative_to(edition).as_posix() for p in edition.rglob("*") if p.is_file()}
    for expected in ("capstone/capstone.ipynb", "README.md", "LICENSE", "pyproject.toml", ".gitignore", MARKER,
                     "binder/postBuild", "binder/requirements.txt", "binder/runtime.txt",
                     "schemas/submission.schema.json", "schemas/examples/valid/optimized.json",
                     "tinytorch/olympics/cli.py", "tinytorch/datasets/digits.npz",
                     "tinytorch/datasets/DIGITS_LICENSE.txt"):
        assert expected in files, f"{expected} is missing from the edition"
    assert not [f for f in files if f.startswith("tinytorch/instructor") or "__pycache__" in f or f.endswith(".pyc")]
    assert not [f for f in files if f.startswith(("tests/", "notebooks/", "benchmarks/"))]
    assert (edition / "binder" / "runtime.txt").read_text() == (ROOT / "binder" / "runtime.txt").read_text()
    postbuild = (edition / "binder" / "postBuild").read_text()
    assert "formgrader" in postbuild and "jupytext" not in postbuild and "generate_assignment" not in postbuild


@pytest.mark.nbgrader
def test_the_edition_notebook_is_the_course_release(edition, course):
    built = nbformat.read(edition / "capstone" / "capstone.ipynb", as_version=4)
    release = nbformat.read(course / "release" / "capstone" / "capstone.ipynb", as_version=4)
    assert [(c.cell_type, c.source, c.metadata.get("nbgrader")) for c in built.cells] == \
        [(c.cell_type, c.source, c.metadata.get("nbgrader")) for c in release.cells]
    text = (edition / "capstone" / "capstone.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "tinytorch.instructor" not in text


@pytest.mark.nbgrader
def test_the_readme_links_point_at_the_student_repository(edition):
    readme = (edition / "README.md").read_text()
    binder = links(REPO, "main", "https://hub.example.edu")
    assert binder["BINDER_URL"] in readme and binder["NBGITPULLER_URL"] in readme
    assert "{{" not in readme
    urlpath = binder["BINDER_URL"].split("urlpath=lab/tree/", 1)[1]
    assert (edition / urlpath).is_file(), "the Binder link must open the edition's notebook"
    for topic in ("Hand in", "Check before you hand in", "tinytorch-olympics validate", "JupyterHub", "Licence"):
        assert topic in readme


@pytest.mark.nbgrader
def test_rebuilding_replaces_the_edition_but_keeps_its_git_folder(edition, tmp_path):
    target = tmp_path / "student-repo"
    shutil.copytree(edition, target)
    (target / ".git").mkdir()
    (target / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (target / "stale.txt").write_text("from an older edition")
    build(target, repo=REPO)
    assert (target / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert not (target / "stale.txt").exists() and (target / "capstone" / "capstone.ipynb").exists()


@pytest.mark.nbgrader
def test_a_folder_that_is_not_an_edition_is_never_overwritten(tmp_path):
    target = tmp_path / "thesis"
    target.mkdir()
    (target / "chapter1.tex").write_text("years of work")
    with pytest.raises(EditionError, match="is not a student edition"):
        build(target)
    assert [p.name for p in target.iterdir()] == ["chapter1.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"], "no scratch folder is left behind"


@pytest.mark.nbgrader
def test_a_leak_stops_the_build_and_leaves_the_earlier_edition_intact(edition, tmp_path, capsys):
    target = tmp_path / "student-repo"
    shutil.copytree(edition, target)
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
    planted = {"def wilson_interval(correct: int, n: int, confidence: float = 0.95) -> tuple[float, float]:":
               "solution"}
    with pytest.raises(EditionError, match=r"capstone/capstone.ipynb.*solution line: def wilson_interval"):
        build(target, secrets=planted)
    assert {p: p.read_bytes() for p in target.rglob("*") if p.is_file()} == before


@pytest.mark.nbgrader
def test_a_failed_swap_puts_the_earlier_edition_back(edition, tmp_path, monkeypatch):
    target = tmp_path / "student-repo"
    shutil.copytree(edition, target)
    (target / ".git").mkdir()
    (target / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    before = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    real_replace = os.replace

    def disk_full_on_the_swap(src, dst):
        if Path(dst) == target and Path(src).name == "edition":
            raise OSError("no space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr("tools.edition.os.replace", disk_full_on_the_swap)
    with pytest.raises(OSError, match="no space left"):
        build(target)
    assert {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student-repo"], "no scratch folder is left behind"


@pytest.mark.parametrize("out, message", [
    (ROOT / "tinytorch" / "edition", "which the edition is built from"),
    (ROOT / "schemas", "which the edition is built from"),
    (ROOT / "README.md", "is a file"),
])
def test_the_builder_refuses_a_target_it_cannot_safely_write(out, message, capsys):
    assert main(["--out", str(out)]) == 1
    assert message in capsys.readouterr().err
    assert not (ROOT / "tinytorch" / "edition").exists()


@pytest.mark.parametrize("repo", ["just-a-name", "a/b/c", "owner/name with space", "owner/name?x=1", ""])
def test_the_command_refuses_a_malformed_repository_name(capsys, repo):
    with pytest.raises(SystemExit):
        main(["--repo", repo])
    assert "--repo must be a GitHub repository as owner/name" in capsys.readouterr().err


@pytest.mark.nbgrader
def test_the_examples_in_the_edition_are_this_repository_s(edition):
    for path in (ROOT / "schemas" / "examples").rglob("*.json"):
        copy = edition / "schemas" / path.relative_to(ROOT / "schemas")
        assert json.loads(copy.read_text()) == json.loads(path.read_text())


@pytest.mark.nbgrader
def test_every_binder_link_either_readme_gives_opens_the_student_edition(edition):
    instructor = (ROOT / "README.md").read_text()
    assert "**This is the instructor edition.**" in instructor
    for readme in (instructor, (edition / "README.md").read_text()):
        paths = re.findall(r"mybinder\.org/v2/gh/\S+?\?urlpath=lab/tree/([\w./-]+)", readme)
        assert paths, "each README gives the Binder link"
        for path in paths:
            assert (edition / path).is_file() and not path.startswith("notebooks/"), (
                f"a Binder link opens {path}, which is not the student edition's notebook")
