"""Properties of the validator over rewritten submissions: every way of asking gives one verdict.

Each example rewrites a valid document (see ``mutations``) and asks three ways: the API
(``load_submission_file`` then ``submission_problems``), the ``validate`` command in this
process, and, for a batch, the installed command in its own process. They must agree,
print no traceback, print one escaped line per problem, and accept exactly the documents the
rewrite keeps valid.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import subprocess
import sys
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tinytorch.olympics.cli import main
from tinytorch.olympics.files import load_submission_file
from tinytorch.olympics.schema import MAX_LATENCY_MS, Problem, json_path, printable, submission_problems

from . import mutations as mut
from .conftest import EXAMPLES, with_samples

EXAMPLE_DOCS = [json.loads(p.read_text()) for p in sorted((EXAMPLES / "valid").glob("*.json"))]
NEW_NAMES = st.text(st.characters(codec=None, categories=None), min_size=1, max_size=8).filter(
    lambda name: name not in mut.schema_names())
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=20)


@st.composite
def valid_documents(draw) -> dict:
    """A shipped example, or one whose baseline latency is any sample set summarized by BenchmarkResult."""
    if draw(st.booleans()):
        return json.loads(json.dumps(draw(st.sampled_from(EXAMPLE_DOCS))))
    samples = draw(st.lists(st.floats(1e-3, 1e3), min_size=6, max_size=40))
    return with_samples(EXAMPLE_DOCS[1], samples)


def api_verdict(path: Path) -> list[Problem]:
    document, problems = load_submission_file(str(path))
    return problems + (submission_problems(document) if document is not None else [])


def judge(folder: Path, text: str) -> list[Problem]:
    """The API's problems with ``text``, after checking that ``validate`` says the same on clean lines."""
    path = folder / "results.json"
    path.write_text(text, encoding="utf-8")
    problems = api_verdict(path)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(path)])
    lines = out.getvalue().splitlines()
    assert err.getvalue() == "", err.getvalue()
    assert not [p for p in problems if p.rule == "internal"], problems
    assert code == (1 if problems else 0)
    assert len(lines) == max(1, len(problems)), lines
    assert all(line.startswith(f"{printable(str(path))}: ") for line in lines)
    assert all(ch.isprintable() or ch == " " for line in lines for ch in line)
    if not problems:
        assert lines == [f"{printable(str(path))}: valid"]
    return problems


def test_the_bases_are_valid(tmp_path):
    for doc in EXAMPLE_DOCS:
        assert judge(tmp_path, json.dumps(doc)) == []


# -- rewrites that keep a document valid ---------------------------------------------------------

@given(doc=valid_documents(), seed=st.integers(0, 2**32), shuffle=st.booleans())
def test_numbers_in_any_json_spelling_and_keys_in_any_order_keep_a_document_valid(tmp_path_factory, doc, seed,
                                                                                 shuffle):
    assert judge(tmp_path_factory.mktemp("doc"), mut.dumps(doc, random.Random(seed), shuffle=shuffle)) == []


@given(doc=valid_documents(), exponent=st.integers(-250, 250), mantissa=st.floats(1.0, 9.99))
def test_time_in_any_unit_keeps_a_document_valid(tmp_path_factory, doc, exponent, mantissa):
    factor = mantissa * 10.0 ** exponent
    retimed = mut.retimed(doc, factor)
    # Within the schema's cap on a latency (an hour per call), which keeps every unit conversion finite.
    assume(all(retimed[name]["metrics"]["latency"]["max"] <= MAX_LATENCY_MS for name in ("baseline", "optimized")
               if name in retimed))
    assert judge(tmp_path_factory.mktemp("doc"), json.dumps(mut.retimed(doc, factor))) == [], factor


@given(doc=valid_documents(), data=st.data())
def test_leaving_out_optional_fields_keeps_a_document_valid(tmp_path_factory, doc, data):
    optional = [p for p in mut.keys(doc) if mut.is_optional(p)]
    for path in data.draw(st.lists(st.sampled_from(optional), unique=True)) if optional else []:
        del mut.at(doc, path[:-1])[path[-1]]
    assert judge(tmp_path_factory.mktemp("doc"), json.dumps(doc)) == []


@given(doc=valid_documents(), where=st.sampled_from(mut.FREE_TEXT), text=ANY_TEXT, ascii_only=st.booleans())
def test_any_unicode_in_free_text_keeps_a_document_valid(tmp_path_factory, doc, where, text, ascii_only):
    """Lone surrogates and line breaks included: written as JSON escapes, they must print escaped."""
    if where[0] in doc:
        mut.at(doc, where[:-1])[where[-1]] = text or "x"
    assert judge(tmp_path_factory.mktemp("doc"), json.dumps(doc, ensure_ascii=True)) == []


# -- rewrites that break a document ----------------------------------------------------------------

@given(doc=valid_documents(), data=st.data(), digits=st.integers(310, 500), sign=st.sampled_from([1, -1]))
def test_an_integer_beyond_a_double_is_refused_where_it_is(tmp_path_factory, doc, data, digits, sign):
    path = data.draw(st.sampled_from(mut.numbers(doc)))
    mut.at(doc, path[:-1])[path[-1]] = sign * 10 ** (digits - 1)
    problems = judge(tmp_path_factory.mktemp("doc"), json.dumps(doc))
    assert any(p.rule == "range" for p in problems), problems


@given(doc=valid_documents(), data=st.data(), seed=st.integers(0, 2**32))
def test_a_key_written_twice_is_refused_where_it_is(tmp_path_factory, doc, data, seed):
    where = data.draw(st.sampled_from([p for p in mut.objects(doc) if mut.at(doc, p)]))
    problems = judge(tmp_path_factory.mktemp("doc"), mut.dumps(doc, random.Random(seed), duplicate=where))
    assert [p for p in problems if p.rule == "duplicate-key"], problems


@given(doc=valid_documents(), data=st.data())
def test_deleting_a_required_key_is_refused(tmp_path_factory, doc, data):
    path = data.draw(st.sampled_from([p for p in mut.keys(doc) if not mut.is_optional(p)]))
    del mut.at(doc, path[:-1])[path[-1]]
    assert judge(tmp_path_factory.mktemp("doc"), json.dumps(doc)), f"deleted {path}"


@given(doc=valid_documents(), data=st.data(), name=NEW_NAMES, rename=st.booleans())
def test_a_key_the_schema_does_not_have_is_refused_by_name(tmp_path_factory, doc, data, name, rename):
    """Renamed (a typo) or added, anywhere, under any Unicode name: never silently ignored."""
    if rename:
        old = data.draw(st.sampled_from(mut.keys(doc)))
        parent = mut.at(doc, old[:-1])
        parent[name] = parent.pop(old[-1])
        where = old[:-1]
    else:
        where = data.draw(st.sampled_from(mut.objects(doc)))
        mut.at(doc, where)[name] = data.draw(st.one_of(st.integers(), st.text(max_size=5), st.none()))
    problems = judge(tmp_path_factory.mktemp("doc"), json.dumps(doc))
    if "schema_version" not in doc:   # a document of no known version is judged by that alone
        assert [p.rule for p in problems] == ["version"]
        return
    unknown = [p for p in problems if p.rule == "unknown-key"]
    assert [p.path for p in unknown] == [json_path([*where, name])], problems


# -- rewrites only the rules can judge -------------------------------------------------------------

_EXTREMES = st.sampled_from([0, 0.0, -0.0, 5e-324, 2.2e-308, 1e-300, 1e-12, 1e12, 1e300, 1.7976931348623157e308,
                             -1, -1e-300, -1e300, 2**53 + 1, 2**63, 2**64])


@given(doc=valid_documents(), data=st.data(), value=st.one_of(_EXTREMES, st.floats(allow_nan=False,
                                                                                 allow_infinity=False)))
def test_any_number_anywhere_gets_one_verdict_the_same_whichever_way_it_is_asked(tmp_path_factory, doc, data,
                                                                                 value):
    path = data.draw(st.sampled_from(mut.numbers(doc)))
    mut.at(doc, path[:-1])[path[-1]] = value
    judge(tmp_path_factory.mktemp("doc"), json.dumps(doc))


# -- the installed command, in its own process, over a batch ---------------------------------------

@settings(max_examples=4)
@given(docs=st.lists(st.tuples(valid_documents(), st.integers(0, 2**32), st.integers(0, 3)), min_size=20,
                     max_size=20))
def test_the_installed_command_agrees_with_the_api_on_a_batch(tmp_path_factory, docs):
    folder = tmp_path_factory.mktemp("batch")
    paths = []
    for i, (doc, seed, kind) in enumerate(docs):
        rng = random.Random(seed)
        if kind == 1:      # break: a huge integer somewhere
            path = rng.choice(mut.numbers(doc))
            mut.at(doc, path[:-1])[path[-1]] = 10 ** 400
        elif kind == 2:    # break: a typo in some key
            path = rng.choice(mut.keys(doc))
            parent = mut.at(doc, path[:-1])
            parent[path[-1] + "\u00a0"] = parent.pop(path[-1])
        elif kind == 3:    # unknown: a number set to an extreme
            path = rng.choice(mut.numbers(doc))
            mut.at(doc, path[:-1])[path[-1]] = rng.choice([5e-324, 1e300, -1.0, 0])
        paths.append(folder / f"{i:02d}\n.json")
        paths[-1].write_text(mut.dumps(doc, rng), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "tinytorch.olympics.cli", "validate", *map(str, paths)],
                          capture_output=True, timeout=120)
    out = done.stdout.decode("utf-8")
    assert done.stderr == b"" and "Traceback" not in out
    lines = out.splitlines()
    for (_, _, kind), path in zip(docs, paths, strict=True):
        problems = api_verdict(path)
        mine = [line for line in lines if line.startswith(printable(str(path)) + ": ")]
        assert len(mine) == max(1, len(problems)), (kind, mine, problems)
        assert (mine == [f"{printable(str(path))}: valid"]) == (not problems)
        assert kind in (0, 3) or problems, f"kind {kind} must break the document"
        assert kind != 0 or not problems, problems
    valid = sum(1 for path in paths if not api_verdict(path))
    assert lines[-1] == f"{valid} of {len(paths)} files valid" and done.returncode == (0 if valid == len(paths) else 1)
