"""The carrier board with the real KiCad: outline, Pi holes, Pi socket and slot header where Layout
puts them, DRC-clean with the fab rules for the default and the Pi 5 designs, deterministic, its
fabrication files, and pcb.drc catching a carrier broken on purpose."""

from __future__ import annotations

import shutil

import pytest

from pcb import board as board_mod
from pcb import carrier_board as cb
from pcb.drc import run_drc
from rackplane import catalogue
from rackplane.checks import FAIL, PASS, load_all, run_check
from rackplane.context import BuildContext
from rackplane.stages import STAGES, StageInput, Upstream
from tests.pcb_helpers import run_stages, variant

pytestmark = pytest.mark.slow

STAGES_RUN = ("pcb.netlist", "pcb.carrier_board", "pcb.carrier_drc")
MODELS = ("pi4b", "pi5")


@pytest.fixture(scope="module")
def carriers(tmp_path_factory):
    out = {}
    for model in MODELS:
        design, layout = variant(node__model=model)
        out[model] = run_stages(design, layout, tmp_path_factory.mktemp(f"carrier_{model}"), STAGES_RUN)
    return out


@pytest.mark.parametrize("model", MODELS)
def test_carrier_is_drc_clean(carriers, model):
    drc = carriers[model].facts["pcb.carrier_drc"]
    assert drc["violations"] == 0, drc["first"]
    assert drc["unconnected"] == 0, drc["first"]


@pytest.mark.parametrize("model", MODELS)
def test_carrier_matches_layout(carriers, model):
    """Outline = the sled's carrier box; Pi holes at pi_to_rack; socket pin 1 on the Pi's header
    pin 1 on the inner face; slot header centred at connector_z on the outer face."""
    ctx = carriers[model]
    s, facts = ctx.layout.sled, ctx.facts["pcb.carrier_board"]
    node = catalogue.node(ctx.design["node.model"])
    assert facts["board_size_mm"] == pytest.approx([s.carrier_y1_mm - s.carrier_y0_mm,
                                                    s.carrier_z1_mm - s.carrier_z0_mm])
    got = sorted((h["y_mm"], h["z_mm"]) for h in facts["holes"])
    want = sorted(s.pi_to_rack(px, py) for px, py in node.mounting_holes_mm)
    assert [c for p in got for c in p] == pytest.approx([c for p in want for c in p], abs=1e-3)
    conns = {c["ref"]: c for c in facts["connectors"]}
    assert conns["J1"]["side"] == "inner" and conns["J2"]["side"] == "outer"
    assert conns["J1"]["pin1_yz_mm"] == pytest.approx(s.pi_to_rack(*node.header_pin1_mm), abs=1e-3)
    assert conns["J2"]["centre_yz_mm"][1] == pytest.approx(s.connector_z_mm, abs=1e-3)
    assert conns["J2"]["centre_yz_mm"][0] < s.carrier_y1_mm


def test_pcb_drc_check_covers_both_boards(carriers, tmp_path):
    """A clean carrier with a clean backplane summary passes; C1 moved onto U1 fails, naming them."""
    ctx = carriers["pi4b"]
    clean_back = {"violations": 0, "unconnected": 0}
    ok = BuildContext(ctx.design, ctx.layout, facts={"pcb.drc": clean_back, **ctx.facts})
    ok.facts["pcb.drc"] = clean_back
    assert run_check(load_all()["pcb.drc"], ok).status == PASS
    import pcbnew

    src = ctx.path("pcb.carrier_board", cb.BOARD_FILE)
    for sibling in src.parent.glob(src.stem + ".kicad_*"):
        shutil.copy2(sibling, tmp_path / sibling.name)
    path = tmp_path / src.name
    board = pcbnew.LoadBoard(str(path))
    board.FindFootprintByReference("C1").SetPosition(board.FindFootprintByReference("U1").GetPosition())
    pcbnew.SaveBoard(str(path), board)
    board_mod.fill_zones(path)
    broken = BuildContext(ctx.design, ctx.layout,
                          facts={"pcb.drc": clean_back, "pcb.carrier_drc": run_drc(path, tmp_path / "d.json")})
    result = run_check(load_all()["pcb.drc"], broken)
    assert result.status == FAIL
    assert "carrier" in result.message
    assert {"C1", "U1"} & set(result.parts)


def test_carrier_is_byte_identical_across_runs(carriers, tmp_path):
    ctx = carriers["pi4b"]
    net = ctx.path("pcb.netlist", "carrier.net")
    again = cb.build_carrier(ctx.design, ctx.layout, net, tmp_path,
                             part_facts=ctx.facts["pcb.netlist"]["carrier_parts"])
    assert again.read_bytes() == ctx.path("pcb.carrier_board", cb.BOARD_FILE).read_bytes()


def test_carrier_fab_writes_gerbers(carriers, tmp_path):
    ctx = carriers["pi4b"]
    spec = STAGES["pcb.carrier_fab"]
    assert spec.for_checks is False
    facts = spec.func(StageInput(ctx.design, ctx.layout, tmp_path,
                                 {"pcb.carrier_board": Upstream(ctx.facts["pcb.carrier_board"],
                                                                ctx.stage_dirs["pcb.carrier_board"])}))
    assert (tmp_path / facts["gerber_zip"]).exists()
    names = " ".join(facts["files"])
    for layer in ("CuTop", "CuBottom", "EdgeCuts", "PTH.drl", "NPTH.drl"):
        assert layer in names
    assert facts["outputs"]["placement"] == "carrier_pos.csv"
