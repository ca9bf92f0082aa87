"""Renamed names keep working for a while, and say what they are called now.

One vocabulary across the API, the command line, the schema and the plots means some
names changed (``Benchmark(runs=...)`` is ``num_runs``, the chapter's name). Code written
against the old name still runs, and raises a DeprecationWarning that gives the new name,
so the fix is a search and replace.
"""

from __future__ import annotations

import warnings
from typing import Any, Optional, TypeVar

__all__ = ["warn_renamed", "renamed_argument"]

T = TypeVar("T")


def warn_renamed(old: str, new: str, stacklevel: int = 3) -> None:
    """A DeprecationWarning pointing at the caller's caller (the code that used ``old``)."""
    warnings.warn(f"{old} is renamed {new}; the old name will be removed", DeprecationWarning, stacklevel=stacklevel)


def renamed_argument(old: str, old_value: Optional[Any], new: str, new_value: T) -> T:
    """``new_value``, or ``old_value`` (with a warning) when the caller used the old keyword.

    The old keyword defaults to None in the signature, so using it is what is detected;
    when it is used it wins, since that is what code written before the rename meant.
    """
    if old_value is None:
        return new_value
    warn_renamed(f"the argument {old}=", f"{new}=", stacklevel=4)
    return old_value
