"""The JSON of a derivation under a concrete loss writes L's derivatives out in every entry of Z,
W and b: above JSON_LOSS_TERMS it is refused in one line, before any work, and nothing is
written."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from matgrad_cli.core.losses import concrete_loss
from matgrad_cli.present.limits import JSON_LOSS_TERMS, json_loss_terms

from .conftest import run_cli


@pytest.mark.parametrize(
    ("loss", "size"), [("squared-error", 13), ("softmax-cross-entropy", 6), ("sum", 33)]
)
def test_json_above_the_limit_is_refused_before_any_work(
    loss: str, size: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert json_loss_terms(size, size, size, concrete_loss(loss)) > JSON_LOSS_TERMS
    target = tmp_path / "out.json"
    start = time.process_time()
    sizes = ["-m", str(size), "-k", str(size), "-n", str(size)]
    code, out, err = run_cli(
        ["derive", "--loss", loss, *sizes, "-f", "json", "-o", str(target)], capsys
    )
    assert code == 2
    assert not out
    assert err.count("\n") == 1
    assert err.startswith(f"matgrad: error: -f json under --loss {loss} writes")
    assert f"above the limit of {JSON_LOSS_TERMS:,}" in err
    assert not target.exists()
    # Refused from the sizes alone: no derivation was made (that takes seconds at these sizes).
    assert time.process_time() - start < 1.0


def test_the_sizes_the_json_takes_are_those_measured_in_seconds() -> None:
    # The squared error at 12³ (about 5 s) and the sum at 32³ fit; the softmax at 4³ fits.
    assert json_loss_terms(12, 12, 12, concrete_loss("squared-error")) <= JSON_LOSS_TERMS
    assert json_loss_terms(32, 32, 32, concrete_loss("sum")) <= JSON_LOSS_TERMS
    assert json_loss_terms(4, 4, 4, concrete_loss("softmax-cross-entropy")) <= JSON_LOSS_TERMS
    # Every entry of a softmax row feeds its whole row: n² times the squared error's terms.
    squared = json_loss_terms(3, 2, 5, concrete_loss("squared-error"))
    assert json_loss_terms(3, 2, 5, concrete_loss("softmax-cross-entropy")) == squared * 25


def test_json_within_the_limit_is_written(capsys: pytest.CaptureFixture[str]) -> None:
    sizes = ["-m", "3", "-k", "2", "-n", "3"]
    code, out, _ = run_cli(
        ["derive", "--loss", "softmax-cross-entropy", *sizes, "-f", "json"], capsys
    )
    assert code == 0
    assert '"loss_gradients"' in out
