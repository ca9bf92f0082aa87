"""Facts about the machine that a number was measured on (given to students, not graded).

Each helper answers one question another person needs to reproduce a result, and
returns ``None`` rather than guessing when the machine does not say.
"""

from __future__ import annotations

import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from threadpoolctl import threadpool_info

__all__ = ["blas_info", "cpu_model", "git_commit", "utc_timestamp"]


def blas_info() -> dict[str, object]:
    """The BLAS library numpy calls for matrix products, its version and thread count.

    Read at run time (threadpoolctl), because the thread count can be changed by
    environment variables and matters for every matmul-bound timing.
    """
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return {"library": str(pool.get("internal_api") or pool.get("prefix")),
                    "version": pool.get("version"),
                    "threads": pool.get("num_threads")}
    return {"library": "unknown", "version": None, "threads": None}


def cpu_model() -> str:
    """The processor's marketing name where the OS reports one, else ``platform.processor()``."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def git_commit(path: Optional[str] = None) -> Optional[str]:
    """The commit checked out where the code runs, or None outside a git work tree."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None


def utc_timestamp() -> str:
    """Now, to the second, in ISO-8601 UTC with a ``Z`` (``2026-11-29T20:05:47Z``): one
    spelling for every timestamp in a results file, whichever machine wrote it."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
