"""The standard streams as a process meets them: closed (``>&-``, ``2>&-``), a reader that goes
away (``| head -c 10``), a full disk, and a locale that cannot encode matgrad's symbols. Each
test runs the real command in a child process; none may end in a traceback."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matgrad_cli.present.ascii import ascii_json, ascii_notation, replace_unencodable, to_ascii

from .conftest import run_cli

codecs.register_error("matgrad-ascii", replace_unencodable)  # as the command line does

ROOT = Path(__file__).resolve().parent.parent
MATGRAD = [sys.executable, "-m", "matgrad_cli"]
CLOSED = "matgrad: error: cannot write to stdout: it is closed (use -o FILE, or redirect it)\n"
#: A locale whose encoding is ASCII: no coercion to C.UTF-8, no UTF-8 mode.
ASCII_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}


def environment(**extra: str) -> dict[str, str]:
    """The child's environment: this checkout importable, no locale or encoding overrides."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LC_", "PYTHONIOENCODING", "PYTHONUTF8", "PYTHONUNBUFFERED"))
    }
    return {**base, "PYTHONPATH": str(ROOT), "COLUMNS": "80", **extra}


def run(
    args: list[str],
    cwd: Path,
    *,
    close: tuple[int, ...] = (),
    env: dict[str, str] | None = None,
    stdout: int | None = subprocess.PIPE,
    stderr: int | None = subprocess.PIPE,
) -> tuple[int, bytes, bytes]:
    """``matgrad ARGS`` in a child whose descriptors ``close`` are closed, as ``>&-`` does."""

    def closing() -> None:
        for fd in close:
            os.close(fd)

    result = subprocess.run(
        [*MATGRAD, *args],
        cwd=cwd,
        env=env or environment(),
        stdout=stdout,
        stderr=stderr,
        preexec_fn=closing if close else None,
        timeout=120,
        check=False,
    )
    return result.returncode, result.stdout or b"", result.stderr or b""


# -- a closed stdout or stderr ---------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["derive"], ["derive", "-f", "pdf"], ["check", "dW = Z.T @ G"], ["prove"], ["jacobian"]],
    ids=lambda args: " ".join(args),
)
def test_a_closed_stdout_is_one_line_and_exit_2(args: list[str], tmp_path: Path) -> None:
    code, _, err = run(args, tmp_path, close=(1,))
    assert (code, err.decode()) == (2, CLOSED)


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["derive", "--help"]])
def test_version_and_help_to_a_closed_stdout_are_one_line_and_exit_2(
    args: list[str], tmp_path: Path
) -> None:
    code, _, err = run(args, tmp_path, close=(1,))
    assert (code, err.decode()) == (2, CLOSED)


def test_a_closed_stdout_does_not_stop_a_file_from_being_written(tmp_path: Path) -> None:
    code, _, err = run(["derive", "-o", "layer.tex"], tmp_path, close=(1,))
    assert code == 0
    assert err.decode().startswith("matgrad: verified")
    assert r"\section*{Summary}" in (tmp_path / "layer.tex").read_text(encoding="utf-8")


def test_a_closed_stdout_is_refused_before_any_work(tmp_path: Path) -> None:
    # Sizes that take minutes: the refusal comes first.
    code, _, err = run(["derive", "--m", "40", "--k", "40", "--n", "40"], tmp_path, close=(1,))
    assert (code, err.decode()) == (2, CLOSED)


def test_a_closed_stderr_still_writes_the_file_with_the_right_exit_code(tmp_path: Path) -> None:
    code, out, _ = run(["derive", "-o", "x.tex"], tmp_path, close=(2,), stderr=None)
    assert (code, out) == (0, b"")
    assert r"\section*{Summary}" in (tmp_path / "x.tex").read_text(encoding="utf-8")
    # A file opened after the start does not take over the closed descriptor 2: nothing of
    # the verdict (or anything else) landed in it.
    assert b"matgrad:" not in (tmp_path / "x.tex").read_bytes()


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["check", "dW = Z.T @ G"], 0), (["check", "dW = G @ Z"], 1), (["derive", "--m", "0"], 2)],
)
def test_a_closed_stderr_keeps_every_exit_code(
    args: list[str], expected: int, tmp_path: Path
) -> None:
    code, _, _ = run(args, tmp_path, close=(2,), stderr=None)
    assert code == expected


def test_closed_stdout_and_stderr_together(tmp_path: Path) -> None:
    code, _, _ = run(["derive", "-o", "x.tex"], tmp_path, close=(1, 2), stdout=None, stderr=None)
    assert code == 0
    assert (tmp_path / "x.tex").exists()
    assert run(["derive"], tmp_path, close=(1, 2), stdout=None, stderr=None)[0] == 2


# -- a stream that fails: a full disk ------------------------------------------------------


def test_a_stdout_on_a_full_disk_is_exit_2_and_no_verdict(tmp_path: Path) -> None:
    with open("/dev/full", "wb") as full:
        code, _, err = run(["derive"], tmp_path, stdout=full.fileno())
    assert code == 2
    assert err.decode() == "matgrad: error: cannot write to stdout: No space left on device\n"
    assert "verified" not in err.decode()


def test_a_stderr_on_a_full_disk_loses_the_verdict_not_the_file(tmp_path: Path) -> None:
    with open("/dev/full", "wb") as full:
        code, _, _ = run(["derive", "-o", "x.tex"], tmp_path, stderr=full.fileno())
        assert code == 0
        assert run(["check", "dW = G @ Z"], tmp_path, stderr=full.fileno())[0] == 1


def test_a_file_write_that_fails_claims_nothing(tmp_path: Path) -> None:
    # RLIMIT_FSIZE makes the write fail for real (EFBIG; Python ignores SIGXFSZ).
    import resource

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    result = subprocess.run(
        [*MATGRAD, "derive", "-o", "layer.tex"],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        preexec_fn=limited,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == "matgrad: error: cannot write layer.tex: File too large\n"
    assert list(tmp_path.iterdir()) == []


# -- a reader that goes away -------------------------------------------------------------------


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize(
    "args",
    [
        ["derive", "--m", "20", "--k", "20", "--n", "20", "-f", "json"],
        ["derive", "--m", "10", "--k", "10", "--n", "10", "--full", "-f", "text"],
        ["check", *["dW = Z.T @ G"] * 200, "-f", "json"],
    ],
    ids=["derive json", "derive text", "check json"],
)
def test_piped_into_head_exits_quietly_with_141(
    args: list[str], unbuffered: bool, tmp_path: Path
) -> None:
    # More than a pipe holds (64 KiB), so the writer is still writing when head leaves.
    env = environment(**({"PYTHONUNBUFFERED": "1"} if unbuffered else {}))
    writer = subprocess.Popen(
        [*MATGRAD, *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert writer.stdout is not None
    head = subprocess.run(
        ["head", "-c", "10"], stdin=writer.stdout, capture_output=True, timeout=120, check=True
    )
    writer.stdout.close()
    _, err = writer.communicate(timeout=120)
    assert len(head.stdout) == 10
    assert (writer.returncode, err) == (141, b"")


@pytest.mark.parametrize(
    "args",
    [["derive"], ["derive", "-f", "json"], ["check", "dW = G @ Z"], ["--version"], ["--help"]],
    ids=lambda args: " ".join(args),
)
def test_a_pipe_whose_reader_has_left_exits_quietly_with_141(
    args: list[str], tmp_path: Path
) -> None:
    # `matgrad derive | true` once true has ended, whatever the size of the output: the read
    # end is closed before the child starts.
    read, write = os.pipe()
    os.close(read)
    try:
        code, _, err = run(args, tmp_path, stdout=write)
    finally:
        os.close(write)
    assert (code, err) == (141, b"")


# -- a locale that cannot encode the symbols --------------------------------------------------


ASCII_ENVIRONMENTS = {
    "C locale": ASCII_LOCALE,
    "PYTHONIOENCODING=ascii": {"PYTHONIOENCODING": "ascii"},
}


@pytest.mark.parametrize(
    ("locale", "args", "expected"),
    [
        ("C locale", ["derive", "-f", "text"], 0),
        ("C locale", ["derive", "-f", "markdown"], 0),
        ("C locale", ["derive", "-f", "latex"], 0),
        ("C locale", ["derive", "--m", "12", "--k", "12", "--n", "12", "-f", "text"], 0),
        ("C locale", ["derive", "--numeric", "-f", "text"], 0),
        ("C locale", ["check", "dW = Z.T @ G", "dZ = (G.T @ W).T", "db = G", "-f", "text"], 1),
        ("C locale", ["prove", "-f", "text"], 0),
        ("C locale", ["jacobian", "-f", "text"], 0),
        ("PYTHONIOENCODING=ascii", ["derive", "-f", "text"], 0),
        ("PYTHONIOENCODING=ascii", ["check", "dW = Z.T @ G", "-f", "markdown"], 0),
        ("PYTHONIOENCODING=ascii", ["jacobian", "-f", "markdown"], 0),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_an_ascii_stdout_gets_the_ascii_notation(
    locale: str, args: list[str], expected: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(args, tmp_path, env=environment(**ASCII_ENVIRONMENTS[locale]))
    assert code == expected, err
    assert out.isascii()
    assert err.isascii()
    assert b"Traceback" not in err
    # The same document as in UTF-8, in the notation: nothing lost, nothing else changed.
    _, utf8, utf8_err = run_cli(args, capsys)
    assert out.decode("ascii") == ascii_notation(utf8)
    assert err.decode("ascii") == to_ascii(utf8_err)


def test_the_text_view_in_ascii_reads_as_the_notation(tmp_path: Path) -> None:
    code, out, err = run(["derive", "-f", "text"], tmp_path, env=environment(**ASCII_LOCALE))
    assert code == 0
    text = out.decode("ascii")
    assert "Z = [z_1,1  z_1,2]" in text
    assert "    [z_2,1  z_2,2]" in text
    assert "dL/dz_1,1 = g_1,1 w_1,1 + g_1,2 w_1,2" in text
    assert "OK Verified at all 4 entries: dL/dZ = dL/dA * W^T." in text
    assert "a_{i,j} = sum_r z_{i,r} w_{r,j}" in text
    assert err == b""  # the text view tells the verdict itself


@pytest.mark.parametrize(
    ("locale", "args"),
    [
        ("PYTHONIOENCODING=ascii", ["check", "dW = Z.T @ G", "dZ = G @ W", "-f", "json"]),
        ("C locale", ["check", "dW = Z.T @ G", "dZ = G @ W", "-f", "json"]),
        ("C locale", ["derive", "-f", "json"]),
        ("C locale", ["derive", "--numeric", "-f", "json"]),
        ("PYTHONIOENCODING=ascii", ["prove", "-f", "json"]),
        ("C locale", ["jacobian", "-f", "json"]),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_an_ascii_stdout_gets_json_with_unicode_escapes(
    locale: str, args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(args, tmp_path, env=environment(**ASCII_ENVIRONMENTS[locale]))
    assert code in (0, 1), err
    assert out.isascii()
    assert b"\\u" in out  # ∂, ᵀ or ×, escaped
    assert json.loads(out) == json.loads(run_cli(args, capsys)[1])  # the same JSON value


def test_messages_on_an_ascii_stderr_use_the_notation(tmp_path: Path) -> None:
    env = environment(**ASCII_LOCALE)
    code, _, err = run(["derive", "--m", "300", "--k", "300", "--n", "300"], tmp_path, env=env)
    assert code == 0
    assert err.decode("ascii").startswith(
        "matgrad: m*k*n = 27000000 is above the symbolic limit; running the exact numeric check"
    )


def test_a_file_is_written_in_utf8_whatever_the_locale(tmp_path: Path) -> None:
    code, _, _ = run(
        ["derive", "-o", "x.md", "-f", "markdown"], tmp_path, env=environment(**ASCII_LOCALE)
    )
    assert code == 0
    _, utf8, _ = run(["derive", "-f", "markdown"], tmp_path, env=environment())
    assert (tmp_path / "x.md").read_bytes() == utf8


# -- the ASCII notation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ascii"),
    [
        ("z₁,₂", "z_1,2"),
        ("z₁₁,₁₂ w₁₂,₃", "z_11,12 w_12,3"),
        ("∂L/∂Z = ∂L/∂A · Wᵀ", "dL/dZ = dL/dA * W^T"),
        ("(Gᵀ @ Z)ᵀᵀ", "(G^T @ Z)^T^T"),
        ("Σ_r z_{i,r} w_{r,j}", "sum_r z_{i,r} w_{r,j}"),
        ("A = ZW + 1ₘb", "A = ZW + 1_m b"),
        ("2×3 − 1 ≤ m·k·n ≠ 4", "2x3 - 1 <= m*k*n != 4"),
        ("✓ held ✗ failed", "OK held FAIL failed"),
        ("⋯ ⋮ ⋱ …", "... : \\ ..."),
        ("I_n ⊗ Z, δ_{j,q}, x⁻¹, m², ½", "I_n (x) Z, delta_{j,q}, x^-1, m^2, 1/2"),
        ("⎡a⎤ ⎢b⎥ ⎣c⎦ │", "[a] [b] [c] |"),
        ("─── ━ ┌┐└┘", "--- - ++++"),
        ("⟨x⟩ → y ↦ z ≈ w ± v", "<x> -> y |-> z ~= w +/- v"),
        ("café α Ω", "cafe alpha Omega"),
        ("\u2603 \udce2", "\\u2603 \\xe2"),  # no notation: escaped, as backslashreplace would
    ],
)
def test_the_ascii_notation(text: str, ascii: str) -> None:
    assert to_ascii(text) == ascii
    assert text.encode("ascii", "matgrad-ascii") == ascii.encode()


def test_the_handler_reads_a_group_across_encodable_characters() -> None:
    # Latin-1 encodes ² and ³ but not ⁴ nor ₁: each unencodable run is read in its context.
    assert "x²³⁴ z₁,₂".encode("latin-1", "matgrad-ascii") == "x²³4 z_1,2".encode("latin-1")


def test_every_symbol_matgrad_prints_has_a_notation() -> None:
    # Every character outside ASCII in the package's source (its messages and documents)
    # has a notation of its own, not an escape.
    package = ROOT / "matgrad_cli"
    symbols = {
        char
        for path in package.rglob("*.py")
        for char in path.read_text(encoding="utf-8")
        if not char.isascii()
    }
    escaped = {char for char in symbols if "\\" in to_ascii(char) and char != "⋱"}
    assert escaped == set()


#: Any text, lone surrogates too (the undecodable bytes of a file name, as os.fsdecode keeps them).
ANY_TEXT = st.text(st.characters() | st.characters(categories=["Cs"]) | st.sampled_from("₁,ᵀ⎡⎤ "))


@given(ANY_TEXT)
def test_the_notation_never_raises_and_is_ascii(text: str) -> None:
    for converted in (to_ascii(text), ascii_notation(text), ascii_json(text)):
        assert converted.isascii()
    assert text.encode("ascii", "matgrad-ascii").isascii()
    assert text.encode("latin-1", "matgrad-ascii").decode("latin-1").startswith(text[:0])


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
)


@given(JSON_VALUES)
def test_ascii_json_is_the_same_json(value: object) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert ascii_json(text) == json.dumps(value, ensure_ascii=True)


@pytest.mark.parametrize(
    "golden",
    ["derive-12x12x12-text", "derive-5x5x5-full-text", "jacobian-3x2x4-text", "derive-2x2x2-text"],
)
def test_matrices_stay_aligned_in_the_notation(golden: str) -> None:
    # In every matrix of a text view, the rows open and close in the same columns, in the
    # notation as in the original, though z₁,₁ has become z_1,1 and 1ₘb 1_m b.
    text = (ROOT / "tests" / "golden" / "cli" / f"{golden}.out").read_text("utf-8")
    original, converted = text.splitlines(), ascii_notation(text).splitlines()
    assert len(converted) == len(original)
    matrices = _matrices(original)
    assert len(matrices) >= 3
    for rows in matrices:
        opening = {converted[row].index("[", column_start(original[row])) for row in rows}
        closing = {_closing(converted[row], opening) for row in rows}
        assert len(opening) == 1, [converted[row] for row in rows]
        assert len(closing) == 1, [converted[row] for row in rows]


def column_start(line: str) -> int:
    """How many characters of ``line`` come before its first matrix bracket, in the notation."""
    first = min(line.index(bracket) for bracket in "⎡⎢⎣" if bracket in line)
    return len(to_ascii(line[:first]))


def _closing(line: str, opening: set[int]) -> int:
    """The column of the ] that closes the matrix opened at ``opening``."""
    return line.index("]", min(opening))


def _matrices(lines: list[str]) -> list[list[int]]:
    """The line numbers of each matrix drawn over several lines (from ⎡ to ⎣)."""
    found: list[list[int]] = []
    for number, line in enumerate(lines):
        if "⎡" in line:
            found.append([number])
        elif found and found[-1][-1] == number - 1 and ("⎢" in line or "⎣" in line):
            found[-1].append(number)
    return [rows for rows in found if len(rows) > 1]


def test_the_notation_of_a_coloured_view_keeps_its_styles() -> None:
    coloured = "\x1b[1mZ\x1b[0m = ⎡z₁,₁  z₁,₂⎤\n    ⎣z₂,₁  z₂,₂⎦"
    assert ascii_notation(coloured) == "\x1b[1mZ\x1b[0m = [z_1,1  z_1,2]\n    [z_2,1  z_2,2]"
