"""Answer keys: an instructor's questions (which gradient, how many points) and a student's named
answers, graded claim by claim with ``matgrad check --key KEY ANSWERS``.

A key is a TOML file (docs/autograding.md)::

    loss = "squared-error"      # optional: the --loss the answers are read with
    dialect = "numpy"           # optional: how * between matrices is read
    sizes = [3, 2, 4]           # optional: m, k, n to check at instead of the default sizes
    samples = "columns"         # optional: A = WX + b1ᵀ (columns) rather than A = ZW + 1b (rows)

    [[question]]
    name = "1a"                 # how the answers file names it
    gradient = "dW"             # dZ, dW or db (dX, dW or db with samples as columns)
    points = 2                  # optional, 1 by default
    shape_credit = 0.5          # optional: the share of the points for the right shape

An answers file holds one answer a line, ``NAME: CLAIM``, such as ``1a: dW = Z.T @ G``; blank
lines and lines starting with ``#`` are skipped. A key or an answers file that cannot be used is
an InputError (one line). An answer that does not parse, is about another gradient or is wrong
earns no points (or ``shape_credit`` of them for a wrong answer of the right shape); its
verdict says why.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...files import shown
from ..layer import LAYERS, SAMPLES, Samples, Sizes, positive_sizes
from ..losses import LOSS_NAMES
from .answers import GRADIENT_NAMES
from .parser import DIALECTS, Dialect, read_text_file
from .tree import Target
from .verdict import CheckReport, ClaimVerdict, Mark, RefusedClaim

#: The most questions a key may hold.
MAX_QUESTIONS = 200
_GRADIENTS: dict[str, Target] = {f"d{name}": name for name in GRADIENT_NAMES}
_KEYS = frozenset({"loss", "dialect", "sizes", "samples", "question"})
_QUESTION_KEYS = frozenset({"name", "gradient", "points", "shape_credit"})


@dataclass(frozen=True)
class Question:
    """One question of a key: its name, the gradient asked for, its points and the share of them
    a wrong answer of the right shape earns."""

    name: str
    target: Target
    points: float
    shape_credit: float = 0.0


@dataclass(frozen=True)
class AnswerKey:
    """The questions, and the loss, dialect, sizes and convention every answer is checked with
    (the sizes, when given, carry the convention)."""

    questions: tuple[Question, ...]
    loss: str = "generic"
    dialect: Dialect = "numpy"
    sizes: Sizes | None = None
    samples: Samples = "rows"


@dataclass(frozen=True)
class Answer:
    """A student's answer: the question it names, the claim, and its line in the file."""

    question: str
    claim: str
    line: int


def _fail(path: Path, message: str) -> InputError:
    return InputError(f"{shown(path)}: {message}")


def read_key(path: Path) -> AnswerKey:
    """The key in ``path``; InputError (one line) for anything it cannot be used as."""
    text = read_text_file(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _fail(path, f"not a TOML answer key ({error})") from None
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise _fail(path, f"unknown setting {unknown[0]!r} (settings: {', '.join(sorted(_KEYS))})")
    loss = data.get("loss", "generic")
    if loss not in LOSS_NAMES:
        raise _fail(path, f"unknown loss {loss!r} (losses: {', '.join(LOSS_NAMES)})")
    dialect = data.get("dialect", "numpy")
    if dialect not in DIALECTS:
        raise _fail(path, f"unknown dialect {dialect!r} (dialects: {', '.join(DIALECTS)})")
    samples = data.get("samples", "rows")
    if samples not in SAMPLES:
        raise _fail(path, f"unknown samples {samples!r} (samples: {', '.join(SAMPLES)})")
    questions = data.get("question")
    if not isinstance(questions, list) or not questions:
        raise _fail(path, 'no questions: add [[question]] tables with name and gradient = "dW"')
    if len(questions) > MAX_QUESTIONS:
        raise _fail(path, f"more than {MAX_QUESTIONS} questions")
    read = tuple(
        _question(path, number, entry, samples) for number, entry in enumerate(questions, 1)
    )
    names = [question.name for question in read]
    repeated = next((name for name in names if names.count(name) > 1), None)
    if repeated is not None:
        raise _fail(path, f"question {repeated!r} is named twice")
    return AnswerKey(read, loss, dialect, _sizes(path, data.get("sizes"), samples), samples)


def _sizes(path: Path, sizes: Any, samples: Samples) -> Sizes | None:
    if sizes is None:
        return None
    if not (isinstance(sizes, list) and len(sizes) == 3 and all(type(s) is int for s in sizes)):
        raise _fail(path, "sizes must be three whole numbers [m, k, n]")
    try:
        return positive_sizes(sizes[0], sizes[1], sizes[2], samples=samples)
    except InputError as error:
        raise _fail(path, str(error)) from None


def _question(path: Path, number: int, entry: Any, samples: Samples) -> Question:
    """The ``number``-th [[question]] table, checked."""
    where = f"question {number}"
    if not isinstance(entry, Mapping):
        raise _fail(path, f"{where} is not a table")
    unknown = sorted(set(entry) - _QUESTION_KEYS)
    if unknown:
        raise _fail(path, f"{where}: unknown field {unknown[0]!r}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip() or ":" in name or len(name) > 64:
        raise _fail(path, f"{where} needs a name: a short text without ':'")
    gradient = entry.get("gradient")
    variables = LAYERS[samples].variables(bias=True)
    if gradient not in _GRADIENTS or _GRADIENTS[gradient] not in variables:
        allowed = ", ".join(f"d{name}" for name in variables[:-1]) + f" or d{variables[-1]}"
        raise _fail(path, f"question {name!r}: gradient must be {allowed}")
    points = _number(path, name, "points", entry.get("points", 1), 0, 1000)
    credit = _number(path, name, "shape_credit", entry.get("shape_credit", 0), 0, 1)
    return Question(name.strip(), _GRADIENTS[gradient], points, credit)


def _number(path: Path, name: str, field: str, value: Any, low: float, high: float) -> float:
    if type(value) not in (int, float) or not low <= value <= high:
        raise _fail(path, f"question {name!r}: {field} must be a number from {low:g} to {high:g}")
    return float(value)


def read_answers(path: Path, key: AnswerKey) -> list[Answer]:
    """The answers in ``path``, one ``NAME: CLAIM`` a line; InputError (one line, with the line
    number) for a line without a question's name, an unknown name, or a question answered twice."""
    known = {question.name for question in key.questions}
    answers: list[Answer] = []
    for number, line in enumerate(read_text_file(path).split("\n"), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, colon, claim = text.partition(":")
        name = name.strip()
        if not colon or name not in known:
            expected = ", ".join(q.name for q in key.questions[:5])
            raise _fail(
                path,
                f"line {number}: an answer is NAME: CLAIM, with NAME a question of the key "
                f"({expected}{', …' if len(key.questions) > 5 else ''})",
            )
        if any(answer.question == name for answer in answers):
            raise _fail(path, f"line {number}: question {name!r} is answered twice")
        answers.append(Answer(name, claim.strip(), number))
    return answers


def grade(
    key: AnswerKey, answers: Sequence[Answer], report: CheckReport, where: str
) -> CheckReport:
    """``report`` (the answers' claims judged in order) with a mark for every question: full
    points for a right answer of the gradient asked, ``shape_credit`` of them for a wrong answer
    of the right shape, none otherwise; an unanswered question gets none."""
    entries = report.entries
    marks: list[Mark] = []
    for question in key.questions:
        order = next((i for i, a in enumerate(answers) if a.question == question.name), None)
        if order is None:
            marks.append(
                Mark(question.name, question.target, question.points, 0.0, None, "no answer")
            )
            continue
        entry = entries[order]
        score, why = _scored(question, entry)
        marks.append(Mark(question.name, question.target, question.points, score, order, why))
    refused = tuple(
        replace(entry, where=f"{where}, line {answers[entry.order].line}")
        for entry in report.refused
    )
    return replace(report, refused=refused, marks=tuple(marks))


def _scored(question: Question, entry: ClaimVerdict | RefusedClaim) -> tuple[float, str]:
    """The points an answer earns, and why."""
    asked = GRADIENT_NAMES[question.target]
    if isinstance(entry, RefusedClaim):
        return 0.0, "the answer could not be checked"
    if entry.target != question.target:
        return (
            0.0,
            f"the question asks for {asked}, the answer is about {GRADIENT_NAMES[entry.target]}",
        )
    if entry.correct:
        return question.points, "right"
    if entry.reason == "values" and question.shape_credit:
        return question.points * question.shape_credit, "the right shape, but wrong values"
    return 0.0, "wrong shape" if entry.reason == "shape" else "wrong values"
