"""Each submission's kernel in a bubblewrap sandbox, under limits, so that grading one student cannot touch another.

nbgrader runs every submission's code as the instructor, in a kernel that can read and
write whatever the instructor can: the gradebook, the other submissions, the solutions.
:class:`SandboxedKernelManager` starts that kernel inside `bubblewrap
<https://github.com/containers/bubblewrap>`_ (``bwrap``) instead. Only the kernel is
confined: nbgrader itself, which reads the source notebook and writes the gradebook,
stays outside and talks to the kernel over Unix sockets in a private folder.

Inside, the kernel

* has no network (a network namespace of its own with only a loopback device);
* sees, by allowlist, the Python installation and the ``tinytorch`` package as the student
  edition has it: no ``tinytorch/instructor`` and no compiled file of it (the judge's subject
  also sees the few modules that run it, :data:`SUBJECT_VIEW`); its own notebook's folder
  (read-write: the student's code may write files next to its notebook) and a small private
  ``/tmp``, and nothing else of the machine's files: not the course, not the other submissions, not the gradebook;
* runs in process, IPC and UTS namespaces of its own, in a session of its own, and dies
  with the grader;
* is limited by ``prlimit`` in address space (so a memory bomb gets a ``MemoryError``),
  in processes and threads (so a fork bomb gets ``BlockingIOError``), in file size and
  with no core dumps. As root the kernel also runs under a user id of its own, since the
  process limit binds no root process.

Wall time is limited where the notebook is executed (:mod:`tinytorch.instructor.grader.execution`).
When the kernel has stopped, its folder is disarmed before nbgrader writes to it: a
symbolic link, FIFO or device left there by the student's code is removed, since nbgrader,
writing as the instructor, would follow it out of the sandbox.

Where bubblewrap cannot run, grading still runs, unconfined, and :func:`missing_protection`
says what is missing; the kernel manager logs it as a warning on every start.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer, default

__all__ = ["SandboxedKernelManager", "sandbox_command", "missing_protection", "disarm", "NO_SANDBOX_WARNING"]

GIB = 1024 ** 3
MIB = 1024 ** 2
#: The parts of the instructor package a sandboxed process may see, when it may see any: the subject
#: (:mod:`tinytorch.instructor.sandboxed`) and the package's docstring. Never the judge, the grader or
#: the solutions, nor any compiled copy of them.
SUBJECT_VIEW = ("instructor/__init__.py", "instructor/sandboxed")
#: Environment variables a kernel keeps; the rest (tokens, credentials, PYTHONPATH) stay outside.
KEPT_ENV = ("PATH", "LANG", "TZ", "NBGRADER_EXECUTION", "JPY_SESSION_NAME")
KEPT_ENV_PREFIXES = ("LC_", "OPENBLAS_", "OMP_", "MKL_")
NO_SANDBOX_WARNING = "SUBMISSIONS ARE GRADED WITHOUT A SANDBOX"


@functools.lru_cache(maxsize=1)
def missing_protection() -> tuple[str, ...]:
    """What the sandbox cannot enforce on this machine, one sentence each; empty when it all holds.

    bubblewrap is tried once, for real: an installed ``bwrap`` that the kernel refuses
    namespaces (a container without privileges) protects nothing.
    """
    missing = []
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        missing.append("bubblewrap (bwrap) is not installed, so each submission's code can use the network and "
                       "read and write every file the grader can: the gradebook, the other submissions and the "
                       "solutions (install it: apt-get install bubblewrap)")
    else:
        probe = subprocess.run([bwrap, *_namespace_flags(), "--ro-bind", "/", "/", "true"],
                               capture_output=True, text=True)
        if probe.returncode != 0:
            missing.append(f"bubblewrap cannot create namespaces here ({probe.stderr.strip() or probe.returncode}), "
                           "so each submission's code can use the network and read and write every file the "
                           "grader can")
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        missing.append("setpriv is not installed, so as root the kernels cannot run under user ids of their own")
    if shutil.which("prlimit") is None:
        missing.append("prlimit is not installed, so a submission's memory, processes and file sizes are unlimited")
    return tuple(missing)


def _namespace_flags() -> list[str]:
    # As root, no user namespace: the kernel drops to a user id of its own with setpriv, which the
    # process limit binds. Otherwise bubblewrap needs an unprivileged user namespace to work at all.
    user = [] if os.geteuid() == 0 else ["--unshare-user"]
    return [*user, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session"]


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """These folders, resolved, without any that lies inside another (it comes with that one)."""
    unique = sorted({p.resolve() for p in paths if p.exists()})
    return [p for p in unique if not any(p != q and p.is_relative_to(q) for q in unique)]


def _binds(mounts: Iterable[tuple[str, Path]]) -> list[str]:
    """bubblewrap arguments for ("--ro-bind" or "--bind", path) mounts at the same path inside, and for
    ("--dir", path): an empty folder there.

    Each folder on the way is made first, readable by all: bubblewrap would make it
    readable by its owner alone, and the kernel's own user id could not get past it.
    """
    made: set[Path] = {Path("/"), Path("/tmp")}
    args: list[str] = []
    for flag, path in mounts:
        for parent in reversed(path.parents):
            if parent not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        args += ["--perms", "0755", "--dir", str(path)] if flag == "--dir" else [flag, str(path), str(path)]
        made.add(path)
    return args


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    return args


def _package_folders() -> list[Path]:
    """The folders the tinytorch package is imported from: in the installation, or an editable install's source."""
    packages = [importlib.import_module(name) for name in ("tinytorch", "tinytorch.schemas")]
    return [Path(p).resolve() for module in packages for p in module.__path__]


def kernel_env(environ: dict[str, str]) -> dict[str, str]:
    """The kernel's environment: the locale, BLAS settings and nbgrader's flag; home and caches in /tmp."""
    kept = {k: v for k, v in environ.items() if k in KEPT_ENV or k.startswith(KEPT_ENV_PREFIXES)}
    return {**kept, "HOME": "/tmp", "USER": "student", "LOGNAME": "student", "IPYTHONDIR": "/tmp/.ipython",
            "MPLCONFIGDIR": "/tmp/.matplotlib", "JUPYTER_RUNTIME_DIR": "/tmp/.jupyter", "PYTHONNOUSERSITE": "1"}


def _package_view(packages: list[Path], extra: Iterable[str]) -> list[str]:
    """bubblewrap arguments that show each package folder by allowlist: an empty read-only folder with the
    package's own entries bound in, ``instructor`` left out, and the ``extra`` entries (relative paths)."""
    args: list[str] = []
    for package in packages:
        args += ["--perms", "0755", "--tmpfs", str(package)]
        for entry in sorted(package.iterdir()):
            if entry.name != "instructor":
                args += ["--ro-bind", str(entry), str(entry)]
        for relative in extra:
            inside = package / relative
            if inside.exists():
                args += [arg for parent in reversed(inside.relative_to(package).parents) if parent != Path(".")
                         for arg in ("--perms", "0755", "--dir", str(package / parent))]
                args += ["--ro-bind", str(inside), str(inside)]
        args += ["--remount-ro", str(package)]
    return args


def sandbox_command(command: list[str], *, workdir: Path, private: Path, env: dict[str, str],
                    memory: int, processes: int, file_size: int, tmp_size: int, uid: int | None = None,
                    subject: bool = False) -> list[str]:
    """``command`` wrapped in prlimit and bubblewrap: the system and Python read-only, the tinytorch package as
    the student edition has it (no ``tinytorch/instructor``, no compiled file of it), ``workdir`` and ``private``
    writable, and nothing else.

    ``subject``: the judge's subject also sees :data:`SUBJECT_VIEW`, the code that runs it.
    ``uid`` (as root): the process runs under that user id, which no other process uses,
    so the process limit counts the sandbox's processes alone.
    """
    prlimit, bwrap, setpriv = (shutil.which(tool) or tool for tool in ("prlimit", "bwrap", "setpriv"))
    limits = [prlimit, f"--as={memory}", f"--nproc={processes}", f"--fsize={file_size}", "--core=0", "--"]
    packages = _package_folders()
    readable = _outermost([Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)])
    environment = ["--clearenv", *(arg for k, v in sorted(env.items()) for arg in ("--setenv", k, v))]
    user = []
    if uid is not None:
        user = [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs", "--"]
    # A package folder outside the installation (an editable install) needs a place to be shown at.
    outside = [p for p in packages if not any(p.is_relative_to(r) for r in readable)]
    return [*limits, bwrap, *_namespace_flags(), *_system_binds(),
            "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(tmp_size), "--tmpfs", "/tmp",
            *_binds([*(("--ro-bind", p) for p in readable), *(("--dir", p) for p in outside),
                     ("--bind", private), ("--bind", workdir)]),
            *_package_view(packages, SUBJECT_VIEW if subject else ()),
            "--chdir", str(workdir), *environment, *user, *command]


_kernels_started = itertools.count()


def _fresh_uid() -> int:
    """A user id that no other process has: one per kernel this process starts (64 in turn) and per process.

    Not one per process: the processes of a kernel just stopped (a fork bomb's) may still be
    on their way out, and would count against the next kernel's process limit.
    """
    return 2 ** 24 + (os.getpid() << 6) + next(_kernels_started) % 64


def disarm(folder: Path) -> list[Path]:
    """Remove every entry of ``folder`` that is neither a regular file nor a folder; returns what went.

    The sandboxed code could leave a symbolic link named like a file nbgrader writes
    next (``capstone.ipynb``) pointing at the gradebook, or a FIFO it would hang on.
    """
    removed = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in [*dirs, *files]:
            path = Path(root) / name
            mode = path.lstat().st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                path.unlink()
                removed.append(path)
    return removed


def _chown_tree(folder: Path, uid: int, gid: int) -> None:
    os.chown(folder, uid, gid, follow_symlinks=False)
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in [*dirs, *files]:
            os.chown(Path(root) / name, uid, gid, follow_symlinks=False)


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in :func:`sandbox_command`, reached over Unix sockets.

    Configure it from nbgrader_config.py (``c.SandboxedKernelManager.memory_limit = ...``)
    or on the command line; :class:`tinytorch.instructor.grader.execution.GuardedExecute` uses it.
    """

    memory_limit = Integer(4 * GIB, help="Address space of each process of the kernel, in bytes").tag(config=True)
    process_limit = Integer(256, help="Processes and threads the kernel may run at once").tag(config=True)
    file_size_limit = Integer(256 * MIB, help="Largest file the kernel may write, in bytes").tag(config=True)
    tmp_size = Integer(256 * MIB, help="Size of the kernel's private /tmp, in bytes").tag(config=True)
    require_sandbox = Bool(help="Refuse to grade, instead of warning, where the sandbox cannot run "
                                "(default: whether TINYTORCH_REQUIRE_SANDBOX=1, as CI sets it)").tag(config=True)

    @default("require_sandbox")
    def _require_sandbox_default(self) -> bool:
        return os.environ.get("TINYTORCH_REQUIRE_SANDBOX") == "1"

    _private: Path | None = None
    _owner: tuple[int, int] | None = None

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        missing = missing_protection()
        if missing:
            message = f"{NO_SANDBOX_WARNING}: " + "; ".join(missing) + "."
            if self.require_sandbox:
                raise RuntimeError(message)
            self.log.warning("!" * 60 + "\n%s\n" + "!" * 60, message)
            return await super()._async_pre_start_kernel(**kw)
        self._private = Path(tempfile.mkdtemp(prefix="tinytorch-kernel-"))
        # Unix sockets in a private folder: the kernel has no network to reach a TCP port on.
        self.transport = "ipc"
        self.ip = str(self._private / "kernel")
        self.connection_file = str(self._private / "connection.json")
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        command = super().format_kernel_cmd(extra_arguments)
        if self._private is None:
            return command
        assert self.kernel_spec is not None
        # Interrupts go as a message, which the kernel turns into SIGINT for itself: a signal
        # to the process group would reach bubblewrap, not the kernel in its own session.
        self.kernel_spec.interrupt_mode = "message"
        launch: dict[str, Any] = self._launch_args or {}
        workdir = Path(str(launch.get("cwd") or os.getcwd())).resolve()
        uid = None
        if os.geteuid() == 0:
            uid = _fresh_uid()
            owner = workdir.stat()
            self._owner = (owner.st_uid, owner.st_gid)
            _chown_tree(self._private, uid, uid)
            _chown_tree(workdir, uid, uid)
        self._workdir = workdir
        return sandbox_command(command, workdir=workdir, private=self._private,
                               env=kernel_env(dict(launch.get("env") or os.environ)),
                               memory=self.memory_limit, processes=self.process_limit,
                               file_size=self.file_size_limit, tmp_size=self.tmp_size, uid=uid)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        if self._private is not None and not restart:
            disarm(self._workdir)
            if self._owner is not None:
                _chown_tree(self._workdir, *self._owner)
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None
