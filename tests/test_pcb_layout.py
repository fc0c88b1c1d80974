"""Board layout machinery with the real KiCad: the slot cell replicated identically in every
slot; pcb.copper and mech.mounting, each with a board broken on purpose that they catch."""

from __future__ import annotations

import shutil

import pytest

from pcb import board as board_mod
from pcb import copper as copper_mod
from pcb import netlist
from rackplane.checks import FAIL, PASS, load_all, run_check
from rackplane.context import BuildContext
from tests.pcb_helpers import run_stages, variant, with_management

pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def built(tmp_path_factory, management_default):
    design, layout = variant(slots__count=4)
    return with_management(run_stages(design, layout, tmp_path_factory.mktemp("pcb4"),
                                      ("pcb.netlist", "pcb.board", "pcb.carrier_board")), management_default)


def test_slot_cells_are_identical(built):
    """Every slot's parts and its own tracks are slot 1's, shifted by the slot's distance (the
    address straps, the first slot's I2C and the bus lanes are the board's, not the cell's)."""
    import pcbnew

    layout = built.layout
    path = built.path("pcb.board", built.facts["pcb.board"]["files"]["board"])
    board = pcbnew.LoadBoard(str(path))
    cells = {int(k): v for k, v in built.facts["pcb.board"]["plan"]["cells_mm"].items()}

    def content(n):
        u0, v0, u1, v1 = cells[n]
        socket_u = pcbnew.ToMM(board.FindFootprintByReference(f"J{n}").GetPosition().x)
        parts = sorted((fp.GetFPIDAsString(), round(pcbnew.ToMM(fp.GetPosition().x) - socket_u, 3),
                        round(pcbnew.ToMM(fp.GetPosition().y), 3), fp.GetOrientationDegrees())
                       for fp in board.GetFootprints() if fp.GetReference()[1:].isdigit()
                       and 100 * n < int(fp.GetReference()[1:]) < 100 * (n + 1))
        # (to 10 um: a pad row's bridge is drawn from each footprint's own pad positions)
        tracks = sorted((t.GetLayer(), round(pcbnew.ToMM(t.GetStart().x) - socket_u, 2),
                         round(pcbnew.ToMM(t.GetStart().y), 2), round(pcbnew.ToMM(t.GetEnd().x) - socket_u, 2),
                         round(pcbnew.ToMM(t.GetEnd().y), 2))
                        for t in board.GetTracks()
                        if u0 <= pcbnew.ToMM(t.GetStart().x) <= u1 and u0 <= pcbnew.ToMM(t.GetEnd().x) <= u1
                        and ((t.GetNetname().startswith(f"S{n}_") and "_I2C_" not in t.GetNetname())
                             or (t.GetNetname() == "VIN" and t.Type() == pcbnew.PCB_TRACE_T)))
        return parts, tracks

    first = content(1)
    cell_parts = [p for p in built.facts["pcb.netlist"]["backplane_parts"] if p["group"] == "slot:1"]
    assert len(first[0]) == len(cell_parts) - 1 and first[1]  # all but the socket
    for slot in layout.slots[1:]:
        assert content(slot.index) == first


def _checks():
    return load_all()


def test_copper_and_mounting_pass(built):
    for cid in ("pcb.copper", "mech.mounting"):
        result = run_check(_checks()[cid], built)
        assert result.status == PASS, result.message
    facts = built.facts["pcb.board"]["copper"]
    assert {r["net"] for r in facts["rails"]} == {"VIN", "GND"}
    assert all(r["narrowest_mm"] > 5 for r in facts["rails"])


def test_ipc2221_matches_the_worked_table():
    # engineering-data 5.1: 1 A -> 0.30 mm, 3 A -> 1.37 mm, 10 A -> 7.19 mm (10 K, 1 oz, external)
    for amps, width in ((1, 0.30), (3, 1.37), (10, 7.19)):
        assert copper_mod.ipc2221_width_mm(amps, 10, 1.0) == pytest.approx(width, abs=0.01)
    assert copper_mod.ipc2221_current_a(7.19, 10, 1.0) == pytest.approx(10, rel=1e-3)
    # 100 mm x 5 mm x 1 oz at 20 C: 9.8 mOhm (engineering-data 5.2)
    assert copper_mod.resistance_ohm(100, 5, 1.0, 20.0) == pytest.approx(0.0098, rel=0.01)


def _copy_board(ctx, tmp_path):
    src = ctx.path("pcb.board", board_mod.BOARD_FILE)
    for sibling in src.parent.glob(src.stem + ".kicad_*"):
        shutil.copy2(sibling, tmp_path / sibling.name)
    return tmp_path / src.name


def test_copper_catches_a_thin_power_band(built, tmp_path):
    """The 12 V pour cut down to a 1 mm strip: too thin for the rack's current, and too lossy."""
    import pcbnew

    path = _copy_board(built, tmp_path)
    board = pcbnew.LoadBoard(str(path))
    for zone in board.Zones():
        if zone.GetNetname() == "VIN":
            box = zone.GetBoundingBox()
            outline = zone.Outline()
            outline.RemoveAllContours()
            outline.NewOutline()
            top = box.GetTop()
            for x, y in ((box.GetLeft(), top), (box.GetRight(), top), (box.GetRight(), top + pcbnew.FromMM(1.0)),
                         (box.GetLeft(), top + pcbnew.FromMM(1.0))):
                outline.Append(x, y)
    pcbnew.SaveBoard(str(path), board)
    board_mod.fill_zones(path)
    facts = dict(built.facts["pcb.board"])
    facts["copper"] = copper_mod.measure_board(built.design, built.layout, path)
    ctx = BuildContext(built.design, built.layout, facts={**built.facts, "pcb.board": facts},
                       stage_dirs={**built.stage_dirs, "pcb.board": tmp_path})
    result = run_check(_checks()["pcb.copper"], ctx)
    assert result.status == FAIL, result.message
    assert "VIN" in result.parts


def test_copper_measures_each_slots_feed_and_catches_a_thin_one(built, tmp_path):
    """Every eFuse's feed from the band is measured (the divider and bias pins' thin tracks are
    not on it); the feed of slot 3 drawn at signal width fails pcb.copper, naming its net."""
    import pcbnew

    feeds = {d["ref"]: tuple(d["in"]) for d in built.facts["pcb.netlist"]["pass_through"]["backplane"]}
    measured = built.facts["pcb.board"]["copper"]["slot_branches"]
    assert sorted(b["where"] for b in measured if b["net"] == "VIN") == \
        sorted(f"feed from the band to {ref}" for ref in feeds)
    assert all(b["narrowest_mm"] >= b["needed_mm"] for b in measured)
    path = _copy_board(built, tmp_path)
    board = pcbnew.LoadBoard(str(path))
    efuse = board.FindFootprintByReference("U301")
    band_v1 = max(pcbnew.ToMM(z.GetBoundingBox().GetBottom()) for z in board.Zones() if z.GetNetname() == "VIN")
    u0 = pcbnew.ToMM(efuse.GetBoundingBox(False).GetLeft()) - 3
    u1 = pcbnew.ToMM(efuse.GetBoundingBox(False).GetRight()) + 3
    thinned = 0
    for track in board.GetTracks():
        if track.GetNetname() == "VIN" and track.Type() == pcbnew.PCB_TRACE_T \
                and u0 <= pcbnew.ToMM(track.GetStart().x) <= u1 and pcbnew.ToMM(track.GetStart().y) > band_v1 - 1:
            if pcbnew.ToMM(track.GetWidth()) >= 0.4:
                track.SetWidth(pcbnew.FromMM(0.25))
                thinned += 1
    assert thinned
    pcbnew.SaveBoard(str(path), board)
    facts = dict(built.facts["pcb.board"])
    facts["copper"] = copper_mod.measure_board(built.design, built.layout, path, (), feeds)
    ctx = BuildContext(built.design, built.layout, facts={**built.facts, "pcb.board": facts},
                       stage_dirs={**built.stage_dirs, "pcb.board": tmp_path})
    result = run_check(_checks()["pcb.copper"], ctx)
    assert result.status == FAIL, result.message
    assert "feed from the band to U301" in result.message and "VIN" in result.parts


def test_mounting_catches_a_moved_hole(built, tmp_path):
    import pcbnew

    path = _copy_board(built, tmp_path)
    board = pcbnew.LoadBoard(str(path))
    hole = board.FindFootprintByReference(netlist.hole_ref(2))
    hole.SetPosition(hole.GetPosition() + pcbnew.VECTOR2I(pcbnew.FromMM(0.3), 0))
    pcbnew.SaveBoard(str(path), board)
    facts = board_mod.read_board_facts(built.layout, path)
    ctx = BuildContext(built.design, built.layout, facts={**built.facts, "pcb.board": facts},
                       stage_dirs={**built.stage_dirs, "pcb.board": tmp_path})
    result = run_check(_checks()["mech.mounting"], ctx)
    assert result.status == FAIL
    assert result.value == pytest.approx(0.3, abs=1e-3)
    assert netlist.hole_ref(2) in result.parts
