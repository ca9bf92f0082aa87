"""The models the hidden checks hand to a student's code, played from the judge's side.

A benchmark harness is tested with models whose cost is known in advance. Here that cost
is not in the student's process at all: every call goes to the judge
(:class:`tinytorch.instructor.judge.channel.Probe`), which chooses how long it takes,
sleeps that long on its own clock, computes the output, and records the call. Each
grading run draws the times afresh, so no number can be learnt from one run and written
into the next.
"""

from __future__ import annotations

import random

import numpy as np

from tinytorch.instructor.judge.channel import Probe

__all__ = ["Sleepy", "Pattern", "Oracle"]


def _zeros(x: np.ndarray, classes: int = 10) -> np.ndarray:
    return np.zeros((x.shape[0] if x.ndim else 1, classes), dtype=np.float32)


class Sleepy(Probe):
    """Each call takes ``seconds``, or with ``octaves`` a time drawn for each call from ``rng`` between
    ``seconds`` and ``seconds · 2**octaves`` (evenly on a log scale: times that differ by far more than a busy
    machine's scheduling delays); the first ``cold_calls`` take ``cold_seconds``. Every prediction is class 0."""

    def __init__(self, seconds: float = 0.0, cold_calls: int = 0, cold_seconds: float = 0.0, octaves: float = 0.0,
                 rng: random.Random | None = None) -> None:
        super().__init__()
        self.seconds, self.cold_calls, self.cold_seconds = seconds, cold_calls, cold_seconds
        self.octaves, self.rng = octaves, rng or random.Random()

    def respond(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        if len(self.calls) < self.cold_calls:
            return self.cold_seconds, _zeros(x)
        return self.seconds * 2 ** (self.octaves * self.rng.random()), _zeros(x)


class Pattern(Probe):
    """Single-sample calls take the times of ``pattern_ms`` in turn, after ``cold_calls`` of ``cold_ms``; a batch
    takes ``batch_ms``, or the times of ``batch_pattern_ms`` in turn. Any ``k · len(pattern)`` consecutive calls
    hold the pattern exactly k times, so the statistics of a correct measurement follow from the pattern,
    whatever came before."""

    def __init__(self, pattern_ms: tuple[float, ...], cold_calls: int = 0, cold_ms: float = 0.0,
                 batch_ms: float = 1.0, batch_pattern_ms: tuple[float, ...] = ()) -> None:
        super().__init__()
        self.pattern_ms, self.cold_calls, self.cold_ms, self.batch_ms = pattern_ms, cold_calls, cold_ms, batch_ms
        self.batch_pattern_ms = batch_pattern_ms
        self.single_calls = self.batch_calls = 0

    @classmethod
    def drawn(cls, rng: random.Random, cold_calls: int, cold_ms: float) -> Pattern:
        """Four fast calls and one slow one, at times drawn for this run: fast 2-3 ms, slow 9-11 ms slower."""
        fast = rng.uniform(2.0, 3.0)
        return cls((fast, fast, fast, fast, fast + rng.uniform(9.0, 11.0)), cold_calls, cold_ms)

    def respond(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        if x.ndim and x.shape[0] == 1:
            warm = self.single_calls - self.cold_calls
            self.single_calls += 1
            pause = self.cold_ms if warm < 0 else self.pattern_ms[warm % len(self.pattern_ms)]
        elif self.batch_pattern_ms:
            pause = self.batch_pattern_ms[self.batch_calls % len(self.batch_pattern_ms)]
            self.batch_calls += 1
        else:
            pause = self.batch_ms
        return pause / 1e3, _zeros(x)


class Oracle(Probe):
    """Predicts the class of the largest of the first 10 features; a call costs ``fixed_ms`` plus ``per_sample_ms``
    per row. It stores int8 weights and float32 biases, and ``extra`` more int8 weights, drawn for this run."""

    def __init__(self, rng: random.Random, features: int = 64, classes: int = 10) -> None:
        super().__init__()
        self.fixed_ms, self.per_sample_ms = rng.uniform(1.0, 2.0), rng.uniform(0.8, 1.2)
        self.extra = rng.randint(1, 50)
        self.classes = classes
        self.buffers = {"weight_q": np.ones((features, classes), dtype=np.int8),
                        "bias": np.zeros(classes, dtype=np.float32),
                        "extra_q": np.ones(self.extra, dtype=np.int8)}

    @property
    def stored_bytes(self) -> int:
        return sum(int(b.nbytes) for b in self.buffers.values())

    @property
    def parameter_count(self) -> int:
        return sum(int(b.size) for b in self.buffers.values())

    @property
    def single_ms(self) -> float:
        return self.fixed_ms + self.per_sample_ms

    def respond(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        rows = x.shape[0] if x.ndim else 1
        logits = np.asarray(x, dtype=np.float32).reshape(rows, -1)[:, :self.classes]
        if logits.shape[1] < self.classes:
            logits = np.pad(logits, ((0, 0), (0, self.classes - logits.shape[1])))
        return (self.fixed_ms + self.per_sample_ms * rows) / 1e3, logits
