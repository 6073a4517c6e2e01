"""The corpus of answers as students write them (tests/data/check_corpus.txt), each judged by
matgrad's check as the file says: right (0), wrong with a phrase of the explanation (1), or
refused with a phrase of the error (2)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from matgrad_cli.core.claims import check
from matgrad_cli.core.claims.network_judge import check_network
from matgrad_cli.core.layer import Sizes, samples_convention
from matgrad_cli.errors import ClaimSyntaxError, MatgradError

CORPUS = Path(__file__).resolve().parent / "data" / "check_corpus.txt"
#: Wide enough that no report line wraps inside a phrase.
WIDTH = 1000


@dataclass(frozen=True)
class Answer:
    line: int
    exit: int
    options: tuple[str, ...]
    claim: str
    phrase: str | None


def read_corpus() -> list[Answer]:
    answers = []
    for number, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        exit_code, options, claim, phrase = (field.strip() for field in line.split(" | "))
        answers.append(
            Answer(
                number,
                int(exit_code),
                () if options == "-" else tuple(shlex.split(options)),
                claim,
                None if phrase == "-" else phrase,
            )
        )
    return answers


ANSWERS = read_corpus()


def test_the_corpus_holds_at_least_150_answers_right_wrong_and_refused() -> None:
    assert len(ANSWERS) >= 150
    assert {answer.exit for answer in ANSWERS} == {0, 1, 2}
    assert sum(answer.exit == 0 for answer in ANSWERS) >= 50
    assert sum(answer.exit == 1 for answer in ANSWERS) >= 50


def test_the_corpus_holds_answers_written_for_a_columns_course() -> None:
    columns = [answer for answer in ANSWERS if "columns" in answer.options]
    assert len(columns) >= 25
    assert {answer.exit for answer in columns} == {0, 1, 2}


def _arguments(options: tuple[str, ...]) -> dict[str, object]:
    values = dict(zip(options[::2], options[1::2], strict=True))
    arguments: dict[str, object] = {}
    if "--loss" in values:
        arguments["loss"] = values.pop("--loss")
    if "--dialect" in values:
        arguments["dialect"] = values.pop("--dialect")
    samples = samples_convention(values.pop("--samples", "rows"))
    arguments["samples"] = samples
    if values:
        arguments["sizes"] = Sizes(
            int(values.pop("--m")), int(values.pop("--k")), int(values.pop("--n")), samples
        )
    assert not values, f"unknown options {values}"
    return arguments


#: The options that make a line's claim one about a network, and check_network's arguments.
NETWORK_OPTIONS = {
    "--hidden": "hidden",
    "--activation": "activation",
    "--output-activation": "output_activation",
    "--slope": "slope",
    "--dialect": "dialect",
}


def _network_arguments(options: tuple[str, ...]) -> dict[str, object] | None:
    """check_network's arguments for a line about a network, None for the single layer's."""
    values = dict(zip(options[::2], options[1::2], strict=True))
    if not {"--hidden", "--activation", "--output-activation"} & values.keys():
        return None
    arguments: dict[str, object] = {NETWORK_OPTIONS[key]: value for key, value in values.items()}
    if "hidden" in arguments:
        arguments["hidden"] = tuple(int(width) for width in str(arguments["hidden"]).split(","))
    else:
        arguments["hidden"] = ()
    return arguments


def test_the_corpus_holds_answers_about_networks() -> None:
    networks = [answer for answer in ANSWERS if _network_arguments(answer.options) is not None]
    assert len(networks) >= 25
    assert {answer.exit for answer in networks} == {0, 1, 2}


@pytest.mark.parametrize("answer", ANSWERS, ids=[f"line{answer.line}" for answer in ANSWERS])
def test_each_answer_gets_its_verdict(answer: Answer) -> None:
    network = _network_arguments(answer.options)
    arguments = network if network is not None else _arguments(answer.options)
    judge = check_network if network is not None else check
    if answer.exit == 2:
        with pytest.raises(MatgradError) as caught:
            judge(answer.claim, **arguments)  # type: ignore[arg-type]
        message = str(caught.value)
        if isinstance(caught.value, ClaimSyntaxError):
            assert 0 <= caught.value.position <= len(answer.claim)
        assert answer.phrase is None or answer.phrase in message, message
        return
    report = judge(answer.claim, **arguments)  # type: ignore[arg-type]
    text = report.to_text(width=WIDTH)
    assert report.correct == (answer.exit == 0), text
    assert answer.phrase is None or answer.phrase in text, text
