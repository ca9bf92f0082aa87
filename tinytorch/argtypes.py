"""Argument types shared by the command lines: a bad value is refused by argparse, with its reason.

Checking in the type rather than after parsing means the usage line and the message
come out together, and nothing has run yet when a value is refused.
"""

from __future__ import annotations

import argparse
import math
from typing import Callable

__all__ = ["int_at_least", "float_in"]


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number no smaller than ``minimum``, refused with a message that says so."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:  # repr escapes whatever would not print (control, bidi, surrogates)
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def float_in(low: float, high: float, what: str) -> Callable[[str], float]:
    """An argparse type: a finite number in [low, high], refused as "must be <what>" otherwise."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value
    return parse
