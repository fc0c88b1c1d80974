"""End to end with the real tools: the default design and 1, 4 and 16 slots, exit codes, the
report, atomic outputs, caching and determinism."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from rackplane.cli import main
from tests.conftest import variant_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    """One outputs folder for the module, so builds share the stage cache as a user's do."""
    return tmp_path_factory.mktemp("outputs")


@pytest.fixture(scope="module")
def default_build(outputs):
    out = outputs / "default"
    code = main(["build", "--out", str(out), "--quiet"])
    return code, out


def report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


def check_result(out: Path, check_id: str) -> dict:
    return next(c for c in report(out)["checks"] if c["id"] == check_id)


def test_default_build_passes_and_writes_every_output(default_build):
    code, out = default_build
    data = report(out)
    failing = [c["message"] for c in data["checks"] if c["status"] != "pass"]
    assert code == 0, failing
    assert (out / "pcb" / "backplane.kicad_pcb").is_file()
    assert (out / "pcb" / "gerbers.zip").stat().st_size > 1000
    stls = sorted((out / "mechanical" / "stl").glob("*.stl"))
    assert len(stls) >= 3
    assert (out / "mechanical" / "assembly.step").stat().st_size > 1000
    assert (out / "report.html").read_text().count("<tr>") > 6
    ids = {c["id"] for c in data["checks"]}
    assert {"rack.eia310", "mech.slot_fit", "print.bed_fit", "print.solid", "pcb.erc", "pcb.drc"} <= ids
    for c in data["checks"]:
        assert set(c) >= {"id", "status", "value", "limit", "unit", "margin", "message", "parts"}
    assert data["design"]["slots"]["pitch_mm"] != "auto"
    assert data["design_as_written"]["slots"]["pitch_mm"] == "auto"
    assert all(s["seconds"] >= 0 for s in data["stages"])


def test_drc_result_comes_from_kicad_clis_json(default_build):
    _, out = default_build
    drc = json.loads((out / "pcb" / "drc.json").read_text())
    assert "violations" in drc and "unconnected_items" in drc
    result = check_result(out, "pcb.drc")
    assert result["status"] == "pass"
    assert result["value"] == len(drc["violations"]) + len(drc["unconnected_items"]) == 0


def test_unchanged_rebuild_comes_from_the_cache_and_is_identical(default_build, outputs):
    _, out = default_build
    before = {p.relative_to(out): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in out.rglob("*") if p.is_file() and p.suffix in (".net", ".kicad_pcb", ".stl")}
    assert main(["build", "--out", str(out), "--quiet"]) == 0
    assert all(s["cached"] for s in report(out)["stages"])
    after = {p.relative_to(out): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in out.rglob("*") if p.is_file() and p.suffix in (".net", ".kicad_pcb", ".stl")}
    assert before == after and before


def test_same_parameters_give_identical_netlist_board_and_meshes(default_build, tmp_path, monkeypatch):
    """A second build with an empty cache regenerates everything: the files must match."""
    _, out = default_build
    monkeypatch.setenv("RACKPLANE_CACHE_DIR", str(tmp_path / "empty-cache"))
    fresh = tmp_path / "fresh" / "default"
    assert main(["build", "--out", str(fresh), "--quiet"]) == 0
    assert not any(s["cached"] for s in report(fresh)["stages"])
    for rel in ["pcb/backplane.net", "pcb/backplane.kicad_pcb", *(
            str(p.relative_to(out)) for p in (out / "mechanical" / "stl").glob("*.stl"))]:
        assert (out / rel).read_bytes() == (fresh / rel).read_bytes(), rel


def test_a_failed_stage_leaves_the_previous_outputs_and_reports_beside_them(default_build, monkeypatch,
                                                                             tmp_path, capsys, write_design):
    """The slicer goes missing, and a new nozzle makes the slicing stage run again: it fails, the
    build exits 1, the previous outputs stay as they were and the failed build's report, with the
    stage's error and the checks that could not read it, lands beside them."""
    _, out = default_build
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    path = write_design(variant_table("default", printer={"nozzle_mm": 0.6}), "nozzle.toml")
    monkeypatch.setenv("PATH", str(tmp_path))  # no prusa-slicer (nor any other tool) on PATH
    code = main(["build", str(path), "--out", str(out), "--quiet"])
    assert code == 1
    captured = capsys.readouterr()
    assert "stage mech.slice failed" in captured.err and "prusa-slicer is not installed" in captured.err
    assert str(out / "report.failed.html") in captured.out
    assert {p: p.read_bytes() for p in before} == before
    failed = json.loads((out / "report.failed.json").read_text())
    status = {c["id"]: c for c in failed["checks"]}
    assert status["stage.mech.slice"]["status"] == "error"
    assert "prusa-slicer is not installed" in status["stage.mech.slice"]["message"]
    assert status["print.slice"]["status"] == "error" and "mech.slice" in status["print.slice"]["message"]
    assert not list(out.parent.glob(".default.rackplane-staging-*"))
    (out / "report.failed.json").unlink()
    (out / "report.failed.html").unlink()


@pytest.mark.parametrize("count", [1, 4, 16])
def test_slot_counts_pass_every_check(count, outputs, write_design):
    """`check` runs every stage a check reads (netlists, boards, DRC, frame, slicing, assembly);
    only the fabrication files and renders are left to `build`."""
    path = write_design(variant_table(f"slots{count}", slots={"count": count}), f"slots{count}.toml")
    out = outputs / f"slots{count}"
    code = main(["check", str(path), "--out", str(out), "--quiet"])
    data = report(out)
    failing = [c["message"] for c in data["checks"] if c["status"] != "pass"]
    assert code == 0, failing
    assert data["design"]["slots"]["count"] == count
    assert check_result(out, "pcb.drc")["value"] == 0


def test_too_narrow_a_pitch_exits_1_and_names_slot_fit(outputs, write_design, capsys):
    path = write_design(variant_table("narrow", slots={"pitch_mm": 15.0}), "narrow.toml")
    out = outputs / "narrow"
    code = main(["check", str(path), "--out", str(out), "--quiet"])
    assert code == 1
    data = json.loads((out / "report.failed.json").read_text())
    result = next(c for c in data["checks"] if c["id"] == "mech.slot_fit")
    assert result["status"] == "fail"
    assert result["value"] == pytest.approx(15.0) and result["limit"] > 20.0
    assert "mech.slot_fit" in capsys.readouterr().out
