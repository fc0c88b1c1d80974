"""The backplane board with the real KiCad: placed from Layout, DRC-clean with the fab rules for
1, 4, 10 (default) and 16 slots, deterministic, and pcb.drc catches boards broken on purpose."""

from __future__ import annotations

import shutil

import pytest

from pcb import board as board_mod
from pcb import netlist
from pcb.drc import run_drc
from rackplane.checks import FAIL, PASS, load_all, run_check
from rackplane.context import BuildContext
from rackplane.stages import STAGES, StageInput, Upstream
from tests.pcb_helpers import gerbers_without_dates, run_stages, variant, with_management

pytestmark = pytest.mark.slow

PCB_STAGES = ("pcb.netlist", "pcb.board", "pcb.drc")
SLOT_COUNTS = (10, 1, 4, 16)
CARRIER_STAGES = ("pcb.netlist", "pcb.carrier_board", "pcb.carrier_drc")


@pytest.fixture(scope="module")
def builds(tmp_path_factory, management_default):
    """One build of the PCB stages per slot count, shared by every test here."""
    out = {}
    for count in SLOT_COUNTS:
        design, layout = variant(slots__count=count)
        out[count] = run_stages(design, layout, tmp_path_factory.mktemp(f"pcb{count}"), PCB_STAGES)
    # pcb.drc covers the carrier too; the carrier does not depend on the slot count: built once
    carrier = run_stages(out[10].design, out[10].layout, tmp_path_factory.mktemp("carrier"), CARRIER_STAGES)
    for ctx in out.values():
        for name in CARRIER_STAGES[1:]:
            ctx.facts[name] = carrier.facts[name]
            ctx.stage_dirs[name] = carrier.stage_dirs[name]
        with_management(ctx, management_default)
    return out


@pytest.mark.parametrize("count", SLOT_COUNTS)
def test_board_is_drc_clean(builds, count):
    ctx = builds[count]
    drc = ctx.facts["pcb.drc"]
    assert drc["violations"] == 0, drc["first"]
    assert drc["unconnected"] == 0, drc["first"]
    result = run_check(load_all()["pcb.drc"], ctx)
    assert result.status == PASS, result.message


@pytest.mark.parametrize("count", SLOT_COUNTS)
def test_board_matches_layout(builds, count):
    """Outline, holes and sockets read back from the saved board sit at Layout's numbers."""
    ctx = builds[count]
    layout, facts = ctx.layout, ctx.facts["pcb.board"]
    bp = layout.backplane
    assert facts["board_size_mm"] == pytest.approx([bp.x1 - bp.x0, bp.z1 - bp.z0], abs=1e-3)
    holes = [c for h in facts["holes"] for c in (h["x_mm"], h["z_mm"])]
    assert holes == pytest.approx([c for xz in layout.backplane_holes_xz_mm for c in xz], abs=1e-3)
    assert all(h["d_mm"] == pytest.approx(layout.backplane_hole_d_mm) for h in facts["holes"])
    sockets = {c["ref"]: c for c in facts["connectors"]}
    for slot in layout.slots:
        c = sockets[netlist.slot_ref(slot.index)]
        assert (c["x_mm"], c["z_mm"]) == pytest.approx(
            (slot.x_mm + layout.sled.connector_dx_mm, layout.sled.connector_z_mm), abs=1e-3)
        assert c["side"] == "front"
    power_in = sockets[netlist.INPUT_REF]
    assert power_in["side"] == "rear"
    assert bp.x0 < power_in["x_mm"] < bp.x1 and bp.z0 < power_in["z_mm"] < bp.z1


def test_board_carries_the_fab_rules(builds):
    import pcbnew

    ctx = builds[10]
    rules = ctx.facts["pcb.board"]["fab_rules"]
    board = pcbnew.LoadBoard(str(ctx.path("pcb.board", ctx.facts["pcb.board"]["files"]["board"])))
    ds = board.GetDesignSettings()
    assert pcbnew.ToMM(ds.m_TrackMinWidth) == pytest.approx(rules["min_track_mm"])
    assert pcbnew.ToMM(ds.m_MinClearance) == pytest.approx(rules["min_clearance_mm"])
    assert pcbnew.ToMM(ds.m_CopperEdgeClearance) == pytest.approx(rules["min_copper_edge_clearance_mm"])
    assert pcbnew.ToMM(ds.m_MinThroughDrill) == pytest.approx(rules["min_hole_mm"])
    dru = ctx.path("pcb.board", ctx.facts["pcb.board"]["files"]["rules"]).read_text()
    assert f"{rules['min_via_drill_mm']:g}mm" in dru


@pytest.mark.parametrize("stage", ["pcb.board", "pcb.carrier_board"])
def test_project_net_class_is_the_routers_rule(builds, stage):
    """The .kicad_pro that kicad-cli's DRC reads carries the router's signal rule (not KiCad's
    defaults, which saving a board writes): KiCad checks the board against the numbers it was
    made with."""
    import json

    ctx = builds[10]
    signal = board_mod.net_rules(ctx.design, ctx.facts["pcb.board"]["fab_rules"])["signal"]
    project = json.loads(ctx.path(stage, ctx.facts[stage]["files"]["project"]).read_text())
    default = next(c for c in project["net_settings"]["classes"] if c["name"] == "Default")
    assert (default["track_width"], default["clearance"], default["via_diameter"]) == pytest.approx(
        (signal.track_mm, signal.clearance_mm, signal.via_diameter_mm))


def test_board_is_byte_identical_across_runs(builds, tmp_path):
    ctx = builds[4]
    facts = ctx.facts["pcb.netlist"]
    net_path = ctx.path("pcb.netlist", facts["board_files"]["backplane_netlist"])
    again = board_mod.build_board(ctx.design, ctx.layout, net_path, tmp_path, part_facts=facts["backplane_parts"],
                                  pass_through=facts["pass_through"]["backplane"])
    first = ctx.path("pcb.board", board_mod.BOARD_FILE)
    assert again.read_bytes() == first.read_bytes()


def _broken_copy(ctx, tmp_path, edit) -> BuildContext:
    """Copy a built board, change it with `edit(board)`, refill, run DRC; a context for pcb.drc."""
    import pcbnew

    src = ctx.path("pcb.board", board_mod.BOARD_FILE)
    for sibling in src.parent.glob(src.stem + ".kicad_*"):
        shutil.copy2(sibling, tmp_path / sibling.name)
    path = tmp_path / src.name
    board = pcbnew.LoadBoard(str(path))
    edit(board)
    pcbnew.SaveBoard(str(path), board)
    board_mod.fill_zones(path)
    facts = run_drc(path, tmp_path / "drc.json")
    return BuildContext(ctx.design, ctx.layout, facts={"pcb.drc": facts, "pcb.carrier_drc": ctx.facts["pcb.carrier_drc"],
                                                       "pcb.management_drc": ctx.facts["pcb.management_drc"]},
                        stage_dirs={"pcb.drc": tmp_path})


def test_drc_catches_a_socket_on_a_mounting_hole(builds, tmp_path):
    ctx = builds[4]

    def move_socket_onto_hole(board):
        hole = board.FindFootprintByReference(netlist.hole_ref(1))
        board.FindFootprintByReference(netlist.slot_ref(1)).SetPosition(hole.GetPosition())

    result = run_check(load_all()["pcb.drc"], _broken_copy(ctx, tmp_path, move_socket_onto_hole))
    assert result.status == FAIL
    assert result.value > 0
    assert netlist.slot_ref(1) in result.parts or netlist.hole_ref(1) in result.parts


def test_drc_catches_a_missing_ground_pour(builds, tmp_path):
    ctx = builds[4]

    def remove_gnd_zone(board):
        for zone in list(board.Zones()):
            if zone.GetNetname() == "GND":
                board.Remove(zone)

    broken = _broken_copy(ctx, tmp_path, remove_gnd_zone)
    assert broken.facts["pcb.drc"]["unconnected"] > 0
    result = run_check(load_all()["pcb.drc"], broken)
    assert result.status == FAIL
    assert "unconnected" in result.message


def test_fab_writes_gerbers_and_drill(builds, tmp_path):
    ctx = builds[1]
    spec = STAGES["pcb.fab"]
    assert spec.for_checks is False
    facts = spec.func(StageInput(ctx.design, ctx.layout, tmp_path,
                                 {"pcb.board": Upstream(ctx.facts["pcb.board"], ctx.stage_dirs["pcb.board"])}))
    assert (tmp_path / facts["gerber_zip"]).exists()
    names = " ".join(facts["files"])
    for layer in ("CuTop", "CuBottom", "EdgeCuts", "MaskTop", "PTH.drl", "NPTH.drl"):
        assert layer in names


def test_board_steps_sit_on_the_layout_boxes(builds, tmp_path):
    """pcb.step writes both boards' STEP models (byte-identical on a rerun); placed by the boards'
    coordinate mappings they cover Layout's board boxes, holes cut."""
    from mechanical import bodies as B

    ctx = builds[10]
    spec = STAGES["pcb.step"]
    ups = {n: Upstream(ctx.facts[n], ctx.stage_dirs[n]) for n in spec.needs}
    first = spec.func(StageInput(ctx.design, ctx.layout, tmp_path / "a", ups))
    again = spec.func(StageInput(ctx.design, ctx.layout, tmp_path / "b", ups))
    L = ctx.layout
    bp, s, slot = L.backplane, L.sled, L.slots[3]
    half = s.carrier_thickness_mm / 2
    expected = {"backplane": (bp.x0, bp.x1, bp.y0, bp.y1, bp.z0, bp.z1),
                "carrier": (slot.x_mm - half, slot.x_mm + half, s.carrier_y0_mm, s.carrier_y1_mm,
                            s.carrier_z0_mm, s.carrier_z1_mm)}
    for board, facts in first["boards"].items():
        a, b = tmp_path / "a" / facts["step"], tmp_path / "b" / facts["step"]
        assert a.read_bytes() == b.read_bytes(), board
        solid = B.load_board_step(a)
        placed = B.place_backplane(L, solid) if board == "backplane" else B.place_carrier(L, slot, solid)
        bb = placed.BoundingBox()
        got = (bb.xmin, bb.xmax, bb.ymin, bb.ymax, bb.zmin, bb.zmax)
        x0, x1, y0, y1, z0, z1 = expected[board]
        assert max(abs(g - e) for g, e in zip(got, expected[board])) <= 0.1, (board, got, expected[board])
        # the STEP board is thinner than 1.6 mm by its copper only; the holes are cut
        assert placed.Volume() < (x1 - x0) * (y1 - y0) * (z1 - z0), board
        assert len(placed.Faces()) > 6, board


def test_gerbers_are_identical_across_runs_apart_from_dates(builds, tmp_path):
    ctx = builds[4]
    spec = STAGES["pcb.fab"]
    ups = {"pcb.board": Upstream(ctx.facts["pcb.board"], ctx.stage_dirs["pcb.board"])}
    a = spec.func(StageInput(ctx.design, ctx.layout, tmp_path / "a", ups))
    b = spec.func(StageInput(ctx.design, ctx.layout, tmp_path / "b", ups))
    first = gerbers_without_dates(tmp_path / "a" / a["gerber_zip"])
    again = gerbers_without_dates(tmp_path / "b" / b["gerber_zip"])
    assert set(first) == set(again) and any(name.endswith(".gtl") for name in first)
    for name in first:
        assert first[name] == again[name], name
