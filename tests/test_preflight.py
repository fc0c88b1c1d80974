"""Pre-flight: the rules that need only Layout run before any generator; a design that breaks one
stops in seconds with exit 1 and a report naming the rule, and nothing generated."""

from __future__ import annotations

import json
import time

import pytest

from rackplane import checks as registry
from rackplane.cli import main
from rackplane.context import BuildContext
from rackplane.design import design_from_table
from rackplane.layout import compute_layout
from rackplane.outdir import MARKER
from rackplane.resolve import resolve_design
from tests.conftest import variant_table


def preflight(**sections):
    design = resolve_design(design_from_table({"name": "x", **sections}))
    return {r.id: r for r in registry.run_preflight(BuildContext(design, compute_layout(design)))}


def test_the_default_design_passes_every_preflight_rule():
    results = preflight()
    assert set(results) == {"mech.slot_fit", "fan.fit", "fan.coverage", "print.bed_fit", "power.budget"}
    assert all(r.status == "pass" for r in results.values()), [r.message for r in results.values()]


FAULTY = [
    ("mech.slot_fit", {"slots": {"pitch_mm": 20}}, "pitch between slot"),
    ("fan.fit", {"rack": {"units": 2}, "cooling": {"fan_size_mm": 120}}, "below the roof"),
    ("fan.coverage", {"cooling": {"fan_size_mm": 40, "fan_count": 1}}, "channel"),
    ("print.bed_fit", {"printer": {"bed_mm": [150, 150, 150]}}, "bed"),
    ("power.budget", {"node": {"model": "pi5"}, "slots": {"count": 16}}, "input connector"),
]


@pytest.mark.parametrize("check_id, sections, fragment", FAULTY, ids=[f[0] for f in FAULTY])
def test_each_preflight_rule_fails_on_its_faulty_design(check_id, sections, fragment):
    result = preflight(**sections)[check_id]
    assert result.status == "fail"
    assert result.margin < 0 and fragment in result.message and result.parts


def test_a_design_that_breaks_a_preflight_rule_stops_in_seconds_with_a_report(write_design, tmp_path, capsys):
    path = write_design(variant_table("onewide", node={"model": "pi5"}, rack={"units": 1}))
    out = tmp_path / "out"
    t0 = time.perf_counter()
    code = main(["build", str(path), "--out", str(out), "--quiet"])
    assert time.perf_counter() - t0 < 15
    assert code == 1
    captured = capsys.readouterr()
    assert "report.failed.html" in captured.out and "pre-flight" in captured.err
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "report.failed.json", "report.failed.html"])
    data = json.loads((out / "report.failed.json").read_text())
    status = {c["id"]: c["status"] for c in data["checks"]}
    assert status["mech.slot_fit"] == "fail" and status["fan.fit"] == "fail"
    assert status["pcb.drc"] == "error" and data["complete"] is False
    drc = next(c for c in data["checks"] if c["id"] == "pcb.drc")
    assert "mech.slot_fit" in drc["message"] and "--force" in drc["message"]


def test_a_failed_build_leaves_the_previous_outputs_and_adds_its_report(write_design, tmp_path, capsys):
    out = tmp_path / "out"
    good = main(["build", str(write_design(variant_table("x", slots={"pitch_mm": 20}))), "--out", str(out), "--quiet"])
    assert good == 1
    (out / "report.json").write_text('{"previous": true}')  # stands for a previous complete build
    code = main(["check", str(write_design(variant_table("x", slots={"pitch_mm": 21}))), "--out", str(out),
                 "--quiet"])
    assert code == 1
    assert (out / "report.json").read_text() == '{"previous": true}'
    data = json.loads((out / "report.failed.json").read_text())
    assert data["design"]["slots"]["pitch_mm"] == 21
