"""Bundled datasets: everything a course run needs ships inside the package, no download."""

from tinytorch.datasets.digits import DigitsSplit, load_digits

__all__ = ["DigitsSplit", "load_digits"]
