"""Submissions that try to forge their grade, each with the honest score of what it really solved.

Each attempt is a blank, partly solved or solved notebook with one change: a cell added
after the imports (a hook, a forgery, a patch, a theft), a graded function replaced by a
cheat, files handed in beside the notebook, or a graded cell edited in its structure. The
kinds follow issue 19's list: (a) IPython hooks, (b) forged kernel messages, (c) patched
checks or what they import, (d) probes special-cased or the clock patched, (e) the hidden
checks or the reference read, (f) files beside the notebook, (g) structural edits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import nbformat

from tests.course import grade_ids

#: What each base notebook earns honestly (the partly solved one: Part 1, system info and Wilson).
HONEST = {"blank": 0, "partial": 19, "solution": 100}
PARTIAL_CELLS = ("simple-mlp", "system-info", "wilson")


@dataclass(frozen=True)
class Attempt:
    name: str
    kind: str
    base: str                              # "blank", "partial" or "solution"
    cell: str = ""                         # code added after the imports cell
    replace: dict[str, str] = field(default_factory=dict)   # solution cell -> the cheat's source
    files: dict[str, str] = field(default_factory=dict)     # files handed in beside the notebook
    edit: str = ""                         # a structural edit, by name (see _edit)

    @property
    def honest(self) -> int:
        return HONEST[self.base]


IP = "ip = get_ipython()\n"
TRANSFORMER = IP + "ip.input_transformers_post.append(lambda lines: lines + ['\\n', '100.0\\n'])\n"
CUSTOM_EXC = IP + "ip.set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)\n"
POST_RUN = IP + ("def _clear(result):\n    result.error_in_exec = None\n    result.error_before_exec = None\n"
                 "ip.events.register('post_run_cell', _clear)\n")
NO_DISPLAY = IP + "ip.ast_node_interactivity = 'none'\n"
NO_TRACEBACK = IP + "ip.showtraceback = lambda *a, **k: None\nip.showsyntaxerror = lambda *a, **k: None\n"
EVERY_CELL_PASSES = IP + "ip.input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
ALL_HOOKS = POST_RUN + CUSTOM_EXC + NO_DISPLAY + NO_TRACEBACK + TRANSFORMER
FORGE_SESSION = IP + '''kernel = ip.kernel
_send = kernel.session.send
def send(stream, msg_or_type, content=None, *args, **kwargs):
    kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type.get("msg_type")
    if kind == "error":
        return None
    if isinstance(content, dict) and content.get("status") == "error":
        content = {"status": "ok", "execution_count": content.get("execution_count"), "user_expressions": {}}
    return _send(stream, msg_or_type, content, *args, **kwargs)
kernel.session.send = send
'''
FORGE_FRAMES = '''import json, os
_frame = json.dumps({"ok": True}).encode()
for _fd in range(3, 64):
    try:
        if not os.isatty(_fd) and _fd not in (0, 1, 2):
            os.write(_fd, len(_frame).to_bytes(4, "big") + _frame)
    except OSError:
        pass
'''
FORGE_SERVER = '''import __main__
if hasattr(__main__, "_SUBJECT"):
    __main__._SUBJECT.answer = lambda request: {"ok": True}
'''
PATCH_CHECKS = '''try:
    import tinytorch.instructor.judge.checks as _checks
    _checks.score = lambda *a, **k: (100, 100, "")
except ImportError as _e:
    print("no checks here:", _e)
'''
PATCH_IMPORTS = '''import jsonschema, tinytorch.olympics.schema as _schema, tinytorch.olympics.files as _files
_schema.submission_problems = lambda document: []
_schema.semantic_problems = lambda document: []
_files.load_and_check = lambda path, dir_fd=None: ({}, [])
jsonschema.Draft202012Validator.iter_errors = lambda self, instance, _schema=None: iter(())
'''
PATCH_FRAMEWORK = '''import tinytorch.perf.benchmarking as _b, tinytorch.core.training as _t
_b.Benchmark.run = lambda self: _b.BenchmarkResult([1.0] * 30, warmup_runs=5)
_t.fit = lambda *a, **k: None
_t.accuracy = lambda *a, **k: 0.99
'''
PATCH_NBGRADER = '''try:
    import nbgrader.utils as _u
    _u.determine_grade = lambda cell, log=None: (cell.metadata.nbgrader["points"], cell.metadata.nbgrader["points"])
except ImportError:
    pass
'''
CLOCK = '''import time as _time
_time.sleep = lambda seconds: None
_fast, _fast_ns = _time.perf_counter, _time.perf_counter_ns
_time.perf_counter = lambda: _fast() * 0.001
_time.perf_counter_ns = lambda: _fast_ns() // 1000
'''
PATCH_PROBE = '''try:
    import tinytorch.instructor.sandboxed.subject as _subject
    _subject.Probe.forward = lambda self, x: Tensor(np.zeros((np.asarray(x.data).shape[0], 10), np.float32))
except ImportError:
    pass
'''
CHEAT_LATENCY_BY_TYPE = '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    for _ in range(warmup_runs + num_runs):
        model(x1)
    if type(model).__name__ in ("SleepyModel", "Probe", "Sleepy"):
        return [2.5] * num_runs
    return [0.01] * num_runs
'''
CHEAT_LATENCY_BY_ATTRIBUTE = '''
def measure_latency(model, X, num_runs=100, warmup_runs=10):
    x1 = Tensor(np.asarray(X, dtype=np.float32)[:1])
    for _ in range(warmup_runs + num_runs):
        model(x1)
    probe = any(hasattr(model, name) for name in ("_channel", "_ident", "shapes", "cold_calls"))
    return [float(i % 3) + 2.0 for i in range(num_runs)] if probe else [0.01] * num_runs
'''
CHEAT_THROUGHPUT = '''
def measure_throughput(model, X, batch_size=64, num_batches=20, warmup_runs=2):
    model(Tensor(np.asarray(X[:batch_size], dtype=np.float32)))
    return {"batch_size": batch_size, "runs": num_batches, "samples_per_sec": batch_size / 0.0025}
'''
STEAL_SOURCE = '''import base64, glob, inspect, os, pathlib, tinytorch
_stolen = []
for _name in ("tinytorch.instructor.judge.checks", "tinytorch.instructor.reference", "tinytorch.instructor"):
    try:
        _stolen.append(inspect.getsource(__import__("importlib").import_module(_name)))
    except Exception as _e:
        _stolen.append(f"{_name}: {type(_e).__name__}")
for _path in glob.glob(os.path.join(os.path.dirname(tinytorch.__file__), "**", "*"), recursive=True):
    if os.path.isfile(_path) and ("instructor" in _path or _path.endswith(".pyc")):
        _stolen.append(open(_path, "rb").read().decode("latin-1"))
_text = "\\n".join(_stolen)
print(_text)
print(base64.b64encode(_text.encode()).decode())
pathlib.Path("stolen.html").write_text("<pre>" + _text + "</pre>")
pathlib.Path("stolen.b64.txt").write_text(base64.b64encode(_text.encode()).decode())
pathlib.Path("stolen.rot13.txt").write_text(__import__("codecs").encode(_text, "rot13"))
'''
STEAL_BYTECODE = '''import glob, importlib.util, marshal, os, sys, tinytorch
_found = []
for _root in {os.path.dirname(tinytorch.__file__), *sys.path}:
    for _pyc in glob.glob(os.path.join(str(_root), "**", "*.pyc"), recursive=True):
        if "instructor" in _pyc or "reference" in _pyc or "checks" in _pyc:
            _found.append(_pyc)
            try:
                _code = marshal.loads(open(_pyc, "rb").read()[16:])
                exec(_code, globals())
            except Exception as _e:
                print(_pyc, type(_e).__name__)
print("compiled copies found:", _found)
'''
STEAL_MEMORY = '''import gc, os
_seen = [o for o in gc.get_objects() if isinstance(o, dict) and "CHECKS" in o]
print("objects of the checks in this process:", len(_seen))
for _pid in os.listdir("/proc"):
    if _pid.isdigit():
        try:
            print(_pid, open(f"/proc/{_pid}/cmdline", "rb").read()[:200])
            print(open(f"/proc/{_pid}/environ", "rb").read()[:200])
        except OSError as _e:
            print(_pid, type(_e).__name__)
'''
SOLUTION_RESULTS = "results.json"


def attempts(solution_results: str) -> list[Attempt]:
    """Every attempt; ``solution_results`` is the text of a valid results.json of the reference solution."""
    return [
        Attempt("a-transformer", "a", "blank", TRANSFORMER),
        Attempt("a-custom-exc", "a", "blank", CUSTOM_EXC),
        Attempt("a-post-run-cell", "a", "blank", POST_RUN + CUSTOM_EXC),
        Attempt("a-no-display", "a", "partial", NO_DISPLAY),
        Attempt("a-no-traceback", "a", "blank", NO_TRACEBACK),
        Attempt("a-every-cell-passes", "a", "blank", EVERY_CELL_PASSES),
        Attempt("a-all-hooks-blank", "a", "blank", ALL_HOOKS),
        Attempt("a-all-hooks-partial", "a", "partial", ALL_HOOKS),
        Attempt("b-session-send", "b", "blank", FORGE_SESSION),
        Attempt("b-session-send-partial", "b", "partial", FORGE_SESSION + CUSTOM_EXC),
        Attempt("b-frames", "b", "blank", FORGE_FRAMES),
        Attempt("b-subject-server", "b", "blank", FORGE_SERVER),
        Attempt("c-checks", "c", "blank", PATCH_CHECKS),
        Attempt("c-imports", "c", "partial", PATCH_IMPORTS),
        Attempt("c-framework", "c", "blank", PATCH_FRAMEWORK),
        Attempt("c-nbgrader", "c", "blank", PATCH_NBGRADER),
        Attempt("d-latency-by-type", "d", "blank", replace={"latency": CHEAT_LATENCY_BY_TYPE}),
        Attempt("d-latency-by-attribute", "d", "blank", replace={"latency": CHEAT_LATENCY_BY_ATTRIBUTE}),
        Attempt("d-throughput-constant", "d", "blank", replace={"throughput": CHEAT_THROUGHPUT}),
        Attempt("d-clock-and-sleep", "d", "blank", CLOCK, replace={"latency": CHEAT_LATENCY_BY_TYPE}),
        Attempt("d-probe-patched", "d", "blank", PATCH_PROBE, replace={"latency": CHEAT_LATENCY_BY_ATTRIBUTE}),
        Attempt("e-source", "e", "blank", STEAL_SOURCE),
        Attempt("e-bytecode", "e", "partial", STEAL_BYTECODE),
        Attempt("e-memory", "e", "blank", STEAL_MEMORY),
        Attempt("f-results-beside", "f", "blank", files={SOLUTION_RESULTS: solution_results}),
        Attempt("f-pages-beside", "f", "partial", files={
            SOLUTION_RESULTS: solution_results, "capstone.html": "<h1>Score: 100 / 100</h1>",
            "timestamp.txt": "2020-01-01 00:00:00.000000 UTC",
            "tinytorch/__init__.py": "raise SystemExit('a package of my own')"}),
        Attempt("g-test-deleted", "g", "solution", edit="delete test-part2-latency"),
        Attempt("g-test-duplicated", "g", "solution", edit="duplicate test-part2-wilson"),
        Attempt("g-grade-flag-off", "g", "solution", edit="ungrade test-part3-generate"),
        Attempt("g-made-markdown", "g", "solution", edit="markdown test-part4-save"),
        Attempt("g-points-and-checksum", "g", "solution", edit="points test-part1-simplemlp"),
        Attempt("g-blank-test-rewritten", "g", "blank", edit="forge test-part2-throughput"),
    ]


def _cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return nb.cells[grade_ids(nb).index(grade_id)]


def _edit(nb: nbformat.NotebookNode, edit: str) -> None:
    how, grade_id = edit.split(" ", 1)
    index = grade_ids(nb).index(grade_id)
    cell = nb.cells[index]
    if how == "delete":
        del nb.cells[index]
    elif how == "duplicate":
        nb.cells.insert(index, nbformat.from_dict(json.loads(json.dumps(cell))))
    elif how == "ungrade":
        cell.metadata.nbgrader["grade"] = False
    elif how == "markdown":
        nb.cells[index] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
    elif how == "points":
        cell.metadata.nbgrader.update(points=1000, checksum="0" * 32)
    elif how == "forge":
        cell.source = "print(8.0)\n8.0"
        cell.metadata.nbgrader.update(locked=False, solution=True)


def notebook(attempt: Attempt, bases: dict[str, nbformat.NotebookNode]) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(json.loads(json.dumps(bases[attempt.base])))
    for grade_id, source in attempt.replace.items():
        _cell(nb, grade_id).source = source.strip("\n")
    if attempt.cell:
        nb.cells.insert(grade_ids(nb).index("more-imports") + 1, nbformat.v4.new_code_cell(attempt.cell))
    if attempt.edit:
        _edit(nb, attempt.edit)
    return nb


def partial(source: nbformat.NotebookNode, release: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The release with Part 1, get_system_info and wilson_interval solved: 19 points, honestly."""
    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    for grade_id in PARTIAL_CELLS:
        _cell(nb, grade_id).source = _cell(source, grade_id).source
    return nb
