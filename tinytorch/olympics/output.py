"""Writing a command's output files into a folder that may hold what a student planted there.

``plot`` writes beside a student's results file, and ``leaderboard --out`` into a folder an
instructor shares with a class. A link planted under an output's name must not carry the
write elsewhere (to ``~/.bashrc``), and a folder that cannot take every file must not be
left with some of them. So every file is first written whole under a fresh temporary
name (created exclusively, never through a link), and only when all of them are written
are they renamed into place; a rename replaces a link itself, not what it points to.
"""

from __future__ import annotations

import os
import secrets
import stat
from typing import Mapping

from tinytorch.olympics.schema import printable

__all__ = ["OutputError", "write_all"]


class OutputError(Exception):
    """The output could not be written; the message is one line that names the file and the reason."""


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def write_all(folder: str, files: Mapping[str, bytes]) -> list[str]:
    """Write each ``name: content`` of ``files`` into ``folder``, all or none; returns the paths written.

    Names are plain file names chosen by the caller. A name already taken by anything but a
    regular file or a link (a folder, a FIFO) is refused before anything is written.
    """
    where = printable(folder)
    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except (OSError, ValueError) as exc:
        reason = _reason(exc) if isinstance(exc, OSError) else str(exc)
        raise OutputError(f"cannot write into {where}: {reason}") from None
    temporary: dict[str, str] = {}
    try:
        for name in files:
            try:
                info = os.stat(name, dir_fd=descriptor, follow_symlinks=False)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise OutputError(f"cannot write {printable(name)} into {where}: {_reason(exc)}") from None
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
                raise OutputError(f"cannot write {printable(name)} into {where}: the name is taken by something "
                                  "that is not a file")
        for name, content in files.items():
            part = f".{name}.{secrets.token_hex(6)}.part"
            try:
                handle = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644,
                                 dir_fd=descriptor)
                temporary[name] = part
                with os.fdopen(handle, "wb") as out:
                    out.write(content)
            except OSError as exc:
                raise OutputError(f"cannot write {printable(name)} into {where}: {_reason(exc)}") from None
        for name, part in list(temporary.items()):
            try:
                os.replace(part, name, src_dir_fd=descriptor, dst_dir_fd=descriptor)
            except OSError as exc:
                raise OutputError(f"cannot write {printable(name)} into {where}: {_reason(exc)}") from None
            del temporary[name]
    finally:
        for part in temporary.values():
            try:
                os.unlink(part, dir_fd=descriptor)
            except OSError:
                pass
        os.close(descriptor)
    return [os.path.join(folder, name) for name in files]
