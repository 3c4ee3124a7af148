"""The adversarial corpus: hostile inputs, each asserting the exit code, the message
(file, layer, feature, fix), that no partial output remains and that no input changed.

Every case calls :func:`attack`, which runs the CLI in-process and checks the standing
promises; the test then asserts what is specific to the case.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from geo.cli import main

#: Exit codes the README promises.
OK, FINDINGS, BAD_INPUT, INTERNAL = 0, 1, 2, 3


def _digest(path: Path) -> dict[Path, str]:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _tree(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")} if folder.exists() else set()


@dataclass
class Outcome:
    """What a CLI call did: its exit code and its output (stdout and stderr)."""

    exit_code: int
    output: str

    def says(self, *fragments: str) -> bool:
        """True when every fragment appears in the output (case-insensitive)."""
        low = self.output.lower()
        return all(f.lower() in low for f in fragments)


def attack(args: list[object], *, inputs: list[Path] = (), out_dir: Path | None = None,
           expect: int | None = None, cwd: Path | None = None) -> Outcome:
    """Run ``parksite ARGS`` and check the standing promises.

    Parameters
    ----------
    args
        The command line after ``parksite``.
    inputs
        Files or folders the call reads: they must be byte-identical afterwards.
    out_dir
        Where outputs may appear. When the call fails (exit 2 or 3), nothing new may be
        left there: no partial file, no hidden temporary file.
    expect
        The exit code the case requires.
    cwd
        Working directory for the call (relative output paths resolve against it).
    """
    before = {p: d for i in inputs for p, d in _digest(Path(i)).items()}
    tree_before = _tree(out_dir) if out_dir else set()
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)
    finally:
        os.chdir(old)
    out = Outcome(r.exit_code, r.output)
    assert "Traceback" not in r.output, r.output
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"uncaught {type(r.exception).__name__}: {r.exception}\n{r.output}")
    after = {p: d for i in inputs for p, d in _digest(Path(i)).items()}
    assert after == before, "an input file changed"
    if out_dir is not None and out.exit_code >= BAD_INPUT:
        new = _tree(out_dir) - tree_before
        assert not new, f"partial output left behind: {sorted(map(str, new))}"
    if expect is not None:
        assert out.exit_code == expect, f"exit {out.exit_code}, expected {expect}:\n{r.output}"
    return out
