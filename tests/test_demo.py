"""tinytorch-train: the digits demo's command line."""

from __future__ import annotations

import pytest

from tinytorch.demo import main


def test_command_line_demo_prints_accuracy(capsys):
    assert main(["--epochs", "2", "--hidden-size", "16"]) == 0
    out = capsys.readouterr().out
    assert "1438 training and 359 test images" in out
    assert "test accuracy 0." in out and "/359)" in out


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    (["--hidden-size", "wide"], "argument --hidden-size: must be a whole number, got 'wide'"),
    (["--seed", "-1"], "argument --seed: must be at least 0, got -1"),
])
def test_bad_values_are_refused_by_argparse_with_their_reason(capsys, args, message):
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2 and message in capsys.readouterr().err
