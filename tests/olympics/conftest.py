"""Valid submissions to mutate: the examples shipped beside the schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


@pytest.fixture
def optimized() -> dict:
    return copy.deepcopy(json.loads((EXAMPLES / "valid" / "optimized.json").read_text()))


@pytest.fixture
def baseline_only() -> dict:
    return copy.deepcopy(json.loads((EXAMPLES / "valid" / "baseline_only.json").read_text()))
