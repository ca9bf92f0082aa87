"""What must never reach a student, and a scanner that finds it in files, wheels, notebooks and HTML.

The secrets are lines: every substantive line inside a ``### BEGIN SOLUTION`` or
``### BEGIN HIDDEN TESTS`` region of the notebook's source, every substantive line of
the judge (:mod:`tinytorch.instructor.judge`: the hidden checks and their probes) and of the reference solution,
less the lines a student is shown anyway (those outside the regions of the notebook).
A line is found when it stands, whitespace aside and not as part of a longer name,
inside any line of any text a student could receive: a source file, a notebook's cells and outputs, a feedback
page's text with its HTML tags removed, or a member of a wheel or zip archive.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

__all__ = ["REGIONS", "Leak", "substantive", "region_lines", "secret_lines", "public_sources", "scan_text",
           "scan_file", "scan_tree", "judge_sources"]

REGIONS = {"solution": ("### BEGIN SOLUTION", "### END SOLUTION"),
           "hidden test": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")}
_MIN_CHARS = 20          # shorter lines ("return x", "else:") are common to any Python code
_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Leak:
    """A secret line found in a file a student could receive."""

    file: str
    line: int
    kind: str
    secret: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind} line: {self.secret}"


def _normal(line: str) -> str:
    return _SPACE.sub(" ", line).strip()


def _occurs(secret: str, text: str) -> bool:
    """``secret`` inside ``text``, not as part of a longer name (``good = f()`` is not in ``_good = f()``)."""
    start = text.find(secret)
    while start != -1:
        end = start + len(secret)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
            return True
        start = text.find(secret, start + 1)
    return False


def substantive(line: str) -> bool:
    """Long enough to be specific, and code rather than an import or a comment."""
    text = _normal(line)
    return len(text) >= _MIN_CHARS and not text.startswith(("#", "import ", "from "))


def region_lines(text: str) -> tuple[dict[str, set[str]], set[str]]:
    """({kind: normalized lines inside regions of that kind}, normalized lines outside every region)."""
    inside: dict[str, set[str]] = {kind: set() for kind in REGIONS}
    outside: set[str] = set()
    current, markdown = None, False
    for line in text.splitlines():
        if line.startswith("# %%"):   # a jupytext cell header: a markdown cell's lines are "# "-prefixed text
            markdown = "[markdown]" in line
        marker = next(((kind, begin in line) for kind, (begin, end) in REGIONS.items() if begin in line or end in line),
                      None)
        if marker:
            current = marker[0] if marker[1] else None
        else:
            words = line[2:] if markdown and line.startswith("# ") else line
            (inside[current] if current else outside).add(_normal(words))
    return inside, outside


def secret_lines(notebook_text: str, hidden_sources: Iterable[str] = (), solution_sources: Iterable[str] = (),
                 public_sources: Iterable[str] = ()) -> dict[str, str]:
    """{normalized secret line: kind} from the notebook's regions and whole instructor-only source files.

    A line that also occurs in ``public_sources`` (the code every student gets) is no secret:
    ``@dataclass(frozen=True)`` in the hidden checks gives nothing away.
    """
    inside, public = region_lines(notebook_text)
    for text in public_sources:
        public.update(_normal(line) for line in text.splitlines())
    for kind, texts in (("hidden test", hidden_sources), ("solution", solution_sources)):
        for text in texts:
            inside[kind].update(_normal(line) for line in text.splitlines())
    # What a student is shown anyway (text outside the regions) is no secret, even inside a longer line.
    shown = "\n".join(public)
    secrets: dict[str, str] = {}
    for kind, lines in inside.items():
        for line in lines:
            if substantive(line) and not _occurs(line, shown):
                secrets.setdefault(line, kind)
    return secrets


def judge_sources(package: Path) -> list[str]:
    """The text of every module of the judge (the hidden checks and their probes) of the package at ``package``."""
    return [path.read_text(encoding="utf-8") for path in sorted((package / "instructor" / "judge").rglob("*.py"))]


def public_sources(package: Path) -> list[str]:
    """The text of every module of the ``tinytorch`` package at ``package`` that students get (all but instructor/)."""
    instructor = package / "instructor"
    return [path.read_text(encoding="utf-8") for path in sorted(package.rglob("*.py"))
            if instructor not in path.parents]


def scan_text(name: str, text: str, secrets: dict[str, str], allowed: Iterable[str] = ()) -> list[Leak]:
    """Every secret inside a line of ``text``, except those that ``allowed`` (lines the reader wrote) contains."""
    own = "\n".join(_normal(line) for line in allowed)
    wanted = [(secret, kind) for secret, kind in secrets.items() if not (own and _occurs(secret, own))]
    leaks = []
    for number, line in enumerate(text.splitlines(), 1):
        normal = _normal(line)
        if len(normal) < _MIN_CHARS:
            continue
        leaks += [Leak(name, number, kind, secret) for secret, kind in wanted if _occurs(secret, normal)]
    return leaks


def _views(name: str, data: bytes) -> Iterator[tuple[str, str]]:
    """The texts a student could read in a file: its text, and what its format hides inside it."""
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                yield from _views(f"{name}!{member}", archive.read(member))
        return
    if b"\0" in data:
        return  # binary (images, arrays): no source line can be read from it
    text = data.decode("utf-8", errors="replace")
    yield name, text
    if name.endswith((".html", ".htm")):
        yield f"{name} (text)", html.unescape(_TAGS.sub("", text))
    if name.endswith(".ipynb"):
        try:
            cells = json.loads(text).get("cells", [])
        except (ValueError, AttributeError):
            return
        parts = []
        for cell in cells:
            source = cell.get("source", "")
            parts.append("".join(source) if isinstance(source, list) else str(source))
            for output in cell.get("outputs", []):
                parts.append(json.dumps(output, ensure_ascii=False).replace("\\n", "\n"))
        yield f"{name} (cells)", "\n".join(parts)


def scan_file(path: Path, secrets: dict[str, str], name: str | None = None,
              allowed: Iterable[str] = ()) -> list[Leak]:
    """Every secret line in the file at ``path`` (reported under ``name``), archives and formats opened."""
    allowed = list(allowed)
    return [leak for view, text in _views(name or str(path), path.read_bytes())
            for leak in scan_text(view, text, secrets, allowed)]


def scan_tree(root: Path, secrets: dict[str, str], allowed: Iterable[str] = ()) -> list[Leak]:
    """Every secret line in every file below ``root`` (``.git`` aside), named relative to ``root``."""
    allowed = list(allowed)
    return [leak for path in sorted(root.rglob("*")) if path.is_file() and ".git" not in path.relative_to(root).parts
            for leak in scan_file(path, secrets, path.relative_to(root).as_posix(), allowed)]
