"""The carrier board with the real KiCad: outline, Pi holes, Pi socket and slot header where Layout
puts them, DRC-clean with the fab rules for the default and the Pi 5 designs, deterministic, its
fabrication files, pcb.drc catching a carrier broken on purpose, and its power paths measured
(pcb.carrier_copper) wide enough for IPC-2221, with pcb.copper catching a narrowed one."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from pcb import board as board_mod
from pcb import carrier_board as cb
from pcb import carrier_copper
from pcb import copper as copper_mod
from pcb import pinout
from pcb.drc import run_drc
from rackplane import catalogue
from rackplane.checks import ERROR, FAIL, PASS, load_all, run_check
from rackplane.context import BuildContext
from rackplane.stages import STAGES, StageInput, Upstream
from tests.pcb_helpers import run_stages, variant, with_management

pytestmark = pytest.mark.slow

STAGES_RUN = ("pcb.netlist", "pcb.board", "pcb.carrier_board", "pcb.carrier_drc")
MODELS = ("pi4b", "pi5")


@pytest.fixture(scope="module")
def carriers(tmp_path_factory, management_default):
    out = {}
    for model in MODELS:
        design, layout = variant(node__model=model)
        out[model] = with_management(run_stages(design, layout, tmp_path_factory.mktemp(f"carrier_{model}"),
                                                STAGES_RUN), management_default)
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
    ok.facts["pcb.management_drc"] = clean_back
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
                          facts={"pcb.drc": clean_back, "pcb.management_drc": clean_back,
                                 "pcb.carrier_drc": run_drc(path, tmp_path / "d.json")})
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


def test_min_cut_and_resistance_of_known_shapes():
    """The measuring kernels on rasters with known answers: a strip 30 x 200 cells between its
    end columns is 30 cells wide and 199/30 squares long (centre to centre); two strips in
    parallel add; a strip with a 5-cell neck is 5 cells wide, and the cut reported separates the
    ends; copper that does not join the terminals is 0 wide."""
    img = np.zeros((40, 220), dtype=bool)
    img[5:35, 10:210] = True
    src = np.zeros_like(img)
    src[:, 10] = True
    snk = np.zeros_like(img)
    snk[:, 209] = True
    assert carrier_copper.min_cut_cells(img, src, snk)[0] == 30
    assert carrier_copper.resistance_squares(img, src, snk) == pytest.approx(199 / 30, rel=1e-6)
    two = img.copy()
    two[17:23, 10:210] = False
    assert carrier_copper.min_cut_cells(two, src, snk)[0] == 24
    neck = img.copy()
    neck[5:35, 100:103] = False
    neck[10:15, 100:103] = True
    cells, cut = carrier_copper.min_cut_cells(neck, src, snk)
    assert cells == 5 == cut.sum()
    assert carrier_copper.min_cut_cells(neck & ~cut, src, snk)[0] == 0   # the cut it reports separates
    apart = img.copy()
    apart[:, 150] = False
    assert carrier_copper.min_cut_cells(apart, src, snk)[0] == 0
    assert carrier_copper.resistance_squares(apart, src, snk) is None


@pytest.mark.parametrize("model", MODELS)
def test_carrier_power_paths_meet_ipc2221(carriers, model):
    """Every power path measured on the saved board is at least as wide as IPC-2221 asks for its
    current at the allowed rise, and pcb.copper passes with a rule per carrier path in it."""
    ctx = carriers[model]
    facts = ctx.facts["pcb.carrier_board"]["copper"]
    paths = {p["rule"]: p for p in facts["paths"]}
    assert set(paths) == {p.rule for p in carrier_copper.POWER_PATHS}
    oz = catalogue.fab(ctx.design["pcb.fab"])["copper_oz"]
    for spec in carrier_copper.POWER_PATHS:
        p = paths[spec.rule]
        assert "error" not in p, p
        want_a = cb.HIGH_CURRENT_A if spec.current == carrier_copper.OUTPUT else facts["input_current_a"]
        assert p["current_a"] == pytest.approx(want_a, abs=1e-4)
        assert p["needed_mm"] == pytest.approx(copper_mod.ipc2221_width_mm(want_a, copper_mod.ALLOWED_RISE_K, oz),
                                               abs=1e-3)
        assert p["narrowest_mm"] >= p["needed_mm"], p
        assert p["resistance_mohm"] > 0 and p["drop_mv"] == pytest.approx(p["resistance_mohm"] * want_a, rel=1e-3)
    assert facts["input_current_a"] >= pinout.slot_supply_current_a(ctx.design) - 1e-4
    drop = facts["drop"]
    assert drop["buck_output_to_header_v"] == pytest.approx(
        sum(paths[r]["drop_mv"] for r in paths if paths[r]["net"] in ("5V1_BUCK", "5V_PI", "GND")) / 1e3, abs=1e-5)
    result = run_check(load_all()["pcb.copper"], ctx)
    assert result.status == PASS, result.message
    carrier_rules = [d for d in result.details if d["what"].startswith("carrier ")]
    assert len(carrier_rules) == len(carrier_copper.POWER_PATHS)
    assert all(d["margin"] >= 0 for d in carrier_rules)


def test_pcb_copper_catches_a_narrowed_carrier_5v_path(carriers, tmp_path):
    """The 5 V pour notched under the Pi's mounting hole down to a 1 mm strip: measured on the
    saved board, pcb.copper fails on the carrier's 5 V rule and names its net and parts."""
    import pcbnew

    ctx = carriers["pi4b"]
    src = ctx.path("pcb.carrier_board", cb.BOARD_FILE)
    for sibling in src.parent.glob(src.stem + ".kicad_*"):
        shutil.copy2(sibling, tmp_path / sibling.name)
    path = tmp_path / src.name
    board = pcbnew.LoadBoard(str(path))
    zone = next(z for z in board.Zones() if z.GetNetname() == "5V_PI")
    box = zone.GetBoundingBox()
    mid = (box.GetLeft() + box.GetRight()) // 2
    notch = pcbnew.SHAPE_POLY_SET()
    notch.NewOutline()
    for x, y in ((mid - pcbnew.FromMM(1.0), box.GetTop() - pcbnew.FromMM(1.0)),
                 (mid + pcbnew.FromMM(1.0), box.GetTop() - pcbnew.FromMM(1.0)),
                 (mid + pcbnew.FromMM(1.0), box.GetBottom() - pcbnew.FromMM(1.0)),
                 (mid - pcbnew.FromMM(1.0), box.GetBottom() - pcbnew.FromMM(1.0))):
        notch.Append(x, y)
    zone.Outline().BooleanSubtract(notch)
    pcbnew.SaveBoard(str(path), board)
    board_mod.fill_zones(path)
    facts = dict(ctx.facts["pcb.carrier_board"])
    facts["copper"] = carrier_copper.measure_carrier(ctx.design, path)
    narrowed = next(p for p in facts["copper"]["paths"] if p["rule"] == "carrier 5V width")
    assert narrowed["narrowest_mm"] < narrowed["needed_mm"]
    broken = BuildContext(ctx.design, ctx.layout, facts={**ctx.facts, "pcb.carrier_board": facts},
                          stage_dirs=ctx.stage_dirs)
    result = run_check(load_all()["pcb.copper"], broken)
    assert result.status == FAIL, result.message
    assert "carrier 5V width" in result.message
    assert {"5V_PI", "Q1", "J1"} <= set(result.parts)


def test_pcb_copper_errors_when_the_carrier_was_not_measured(carriers):
    """A carrier path that could not be measured, or a failed carrier stage, is an error."""
    ctx = carriers["pi4b"]
    facts = dict(ctx.facts["pcb.carrier_board"])
    copper = dict(facts["copper"])
    copper["paths"] = [dict(p) for p in copper["paths"]]
    copper["paths"][0] = {"rule": copper["paths"][0]["rule"], "net": "VIN", "parts": ["J2", "U1"],
                          "error": "no U1 on the board"}
    facts["copper"] = copper
    unmeasured = BuildContext(ctx.design, ctx.layout, facts={**ctx.facts, "pcb.carrier_board": facts})
    result = run_check(load_all()["pcb.copper"], unmeasured)
    assert result.status == ERROR and "carrier VIN width" in result.message
    others = {k: v for k, v in ctx.facts.items() if k != "pcb.carrier_board"}
    failed = BuildContext(ctx.design, ctx.layout, facts=others, stage_errors={"pcb.carrier_board": "RouteError: net X"})
    assert run_check(load_all()["pcb.copper"], failed).status == ERROR
