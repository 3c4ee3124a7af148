"""The README's exit-code promise for a bug: exit 3, one line naming the error and
asking for a report, the traceback only under -v; never a half-written output."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import geo.cli.redlines as redlines_cli
from geo.cli import main

from ._harness import INTERNAL, attack

ROOT = Path(__file__).resolve().parents[2]
YRD = ROOT / "data" / "yrd"


def _bug(*args, **kwargs):
    raise ZeroDivisionError("a bug deep inside")


def test_a_bug_is_exit_3_in_one_line_without_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setattr(redlines_cli, "redline_conflicts", _bug)
    out = tmp_path / "out"
    out.mkdir()
    r = attack(["redlines", YRD / "parks.gpkg", YRD / "redlines.gpkg", "--out",
                out / "c.csv"], inputs=[YRD / "parks.gpkg"], out_dir=out, expect=INTERNAL)
    assert r.says("internal error", "ZeroDivisionError", "a bug deep inside",
                  "this is a bug in parksite", "-v")
    assert len(r.output.strip().splitlines()) == 1


def test_a_bug_under_v_shows_the_traceback(monkeypatch):
    monkeypatch.setattr(redlines_cli, "redline_conflicts", _bug)
    r = CliRunner().invoke(main, ["-v", "redlines", str(YRD / "parks.gpkg"),
                                  str(YRD / "redlines.gpkg")])
    assert r.exit_code == INTERNAL
    assert "Traceback" in r.output and "_bug" in r.output
