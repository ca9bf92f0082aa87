"""The sandbox a submission's kernel runs in: each protection tried from inside, with a control from outside.

Where bubblewrap cannot run, these skip with the reason, unless TINYTORCH_REQUIRE_SANDBOX
is set (as .ci/run sets it): then a missing sandbox fails them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import py_compile
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.instructor.grader import sandbox
from tinytorch.instructor.grader.sandbox import (
    NO_SANDBOX_WARNING,
    SandboxedKernelManager,
    disarm,
    kernel_env,
    missing_protection,
    sandbox_command,
)

MISSING = missing_protection()
needs_sandbox = pytest.mark.skipif(bool(MISSING) and not os.environ.get("TINYTORCH_REQUIRE_SANDBOX"),
                                   reason="; ".join(MISSING) or "the sandbox runs here")
GIB = 1024 ** 3


def run_inside(code: str, workdir: Path, private: Path, *, memory: int = 2 * GIB,
               processes: int = 64) -> subprocess.CompletedProcess:
    """``code`` run by this Python inside the sandbox, as a kernel would be."""
    workdir.mkdir(exist_ok=True)
    private.mkdir(exist_ok=True)
    uid = None
    if os.geteuid() == 0:
        uid = sandbox._fresh_uid()
        for folder in (workdir, private):
            os.chown(folder, uid, uid)
    command = sandbox_command([sys.executable, "-c", code], workdir=workdir, private=private,
                              env=kernel_env(dict(os.environ)), memory=memory, processes=processes,
                              file_size=64 * 1024 ** 2, tmp_size=64 * 1024 ** 2, uid=uid)
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "work", tmp_path / "private"


@needs_sandbox
def test_the_sandbox_runs_here():
    assert MISSING == (), MISSING


@needs_sandbox
def test_no_network_a_server_on_the_machines_loopback_is_out_of_reach(folders):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = threading.Thread(target=lambda: server.accept()[0].close(), daemon=True)
    accepted.start()
    socket.create_connection(("127.0.0.1", port), timeout=5).close()  # the control: reachable from here
    accepted.join(5)
    inside = run_inside(f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
                        "    print('connected')\nexcept OSError as e:\n    print('refused', type(e).__name__)",
                        *folders)
    server.close()
    assert inside.returncode == 0, inside.stderr
    assert inside.stdout.startswith("refused"), inside.stdout


@needs_sandbox
def test_only_its_own_folder_is_seen_and_written(folders, tmp_path):
    workdir, _ = folders
    secret = tmp_path / "other-student.ipynb"
    secret.write_text("another student's work")
    code = (f"import os\n"
            f"print(os.path.exists({str(secret)!r}))\n"
            f"print(os.path.exists({str(Path.cwd())!r} + '/notebooks'))\n"
            f"for target in ({str(tmp_path / 'outside.txt')!r}, '/etc/written', {str(secret)!r}):\n"
            f"    try:\n        open(target, 'a').write('x')\n        print('wrote', target)\n"
            f"    except OSError:\n        pass\n"
            f"open('mine.txt', 'w').write('mine')\nprint(os.getcwd())")
    inside = run_inside(code, *folders)
    assert inside.returncode == 0, inside.stderr
    assert inside.stdout.split() == ["False", "False", str(workdir)]
    assert secret.read_text() == "another student's work" and not (tmp_path / "outside.txt").exists()
    assert (workdir / "mine.txt").read_text() == "mine"


@needs_sandbox
def test_the_package_is_shown_by_allowlist_without_the_instructor_package_or_its_compiled_files(folders):
    package = Path(sandbox._package_folders()[0])
    reference = package / "instructor" / "reference.py"
    compiled = Path(py_compile.compile(str(reference), doraise=True))  # the control: a compiled copy is there outside
    assert compiled.is_file() and "def " in reference.read_text()
    inside = run_inside(f"import os, importlib.util\nprint(sorted(os.listdir({str(package)!r})))\n"
                        f"print(os.path.exists({str(compiled)!r}), os.path.exists({str(reference)!r}))\n"
                        "print(importlib.util.find_spec('tinytorch.instructor'))\n"
                        "import tinytorch.olympics.schema\nprint('student edition imports')", *folders)
    assert inside.returncode == 0, inside.stderr
    listing, exists, spec, last = inside.stdout.strip().splitlines()
    assert listing == str(sorted(p.name for p in package.iterdir() if p.name != "instructor"))
    assert exists == "False False" and spec == "None" and last == "student edition imports"


@needs_sandbox
def test_a_memory_bomb_gets_a_memory_error(folders):
    inside = run_inside("try:\n    x = bytearray(8 * 1024 ** 3)\n    print('allocated')\n"
                        "except MemoryError:\n    print('MemoryError')", *folders, memory=GIB)
    assert inside.stdout.strip() == "MemoryError", inside.stdout + inside.stderr


@needs_sandbox
def test_a_fork_bomb_is_refused_and_its_processes_end_with_the_sandbox(folders):
    code = ("import os, sys, time\nn = 0\ntry:\n    while n < 500:\n        if os.fork() == 0:\n"
            "            time.sleep(60)\n            os._exit(0)\n        n += 1\n"
            "except OSError as e:\n    print('refused after', n, type(e).__name__)\n    sys.exit(0)\n"
            "print('forked', n)")
    inside = run_inside(code, *folders, processes=32)
    assert inside.stdout.startswith("refused after"), inside.stdout + inside.stderr
    assert int(inside.stdout.split()[2]) < 32
    # The sleeping children died with the sandbox: run_inside returned long before their 60 s.


def test_the_kernel_keeps_the_locale_and_nbgraders_flag_and_nothing_else():
    env = kernel_env({"PATH": "/usr/bin", "LANG": "C.UTF-8", "NBGRADER_EXECUTION": "autograde",
                      "OPENBLAS_NUM_THREADS": "1", "GITHUB_TOKEN": "secret", "PYTHONPATH": "/course",
                      "HOME": "/root"})
    assert env["NBGRADER_EXECUTION"] == "autograde" and env["OPENBLAS_NUM_THREADS"] == "1"
    assert "GITHUB_TOKEN" not in env and "PYTHONPATH" not in env and env["HOME"] == "/tmp"


def test_without_bubblewrap_grading_warns_what_is_missing_or_refuses(monkeypatch, caplog):
    missing_protection.cache_clear()
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    try:
        missing = missing_protection()
    finally:
        missing_protection.cache_clear()
    assert any("bubblewrap" in m and "network" in m and "gradebook" in m for m in missing)
    assert any("prlimit" in m for m in missing)
    monkeypatch.setattr(sandbox, "missing_protection", lambda: missing)

    strict = SandboxedKernelManager(require_sandbox=True)
    with pytest.raises(RuntimeError, match=NO_SANDBOX_WARNING):
        asyncio.run(strict._async_pre_start_kernel())

    lenient = SandboxedKernelManager(require_sandbox=False)
    lenient.log = logging.getLogger("sandbox-test")
    with caplog.at_level(logging.WARNING, logger="sandbox-test"):
        command, _ = asyncio.run(lenient._async_pre_start_kernel())
    assert NO_SANDBOX_WARNING in caplog.text and "bubblewrap" in caplog.text
    assert "bwrap" not in command, "without bubblewrap the kernel starts as it is"


ENTRY = st.sampled_from(["file", "folder", "link-out", "link-in", "fifo"])


@given(st.lists(st.tuples(st.integers(0, 3), ENTRY), max_size=12))
def test_disarm_leaves_exactly_the_regular_files_and_folders(tmp_path_factory, entries):
    root = tmp_path_factory.mktemp("disarm")
    folders, expected = [root], {}
    for i, (where, kind) in enumerate(entries):
        path = folders[where % len(folders)] / f"entry{i}"
        if kind == "file":
            path.write_text(str(i))
            expected[path] = str(i)
        elif kind == "folder":
            path.mkdir()
            folders.append(path)
            expected[path] = None
        elif kind == "link-out":
            path.symlink_to("/etc/passwd")
        elif kind == "link-in":
            path.symlink_to(root)
        else:
            os.mkfifo(path)
    disarm(root)
    left = {p: (None if p.is_dir() else p.read_text()) for p in root.rglob("*")}
    assert left == expected
    assert all(stat.S_ISREG(p.lstat().st_mode) or stat.S_ISDIR(p.lstat().st_mode) for p in left)
