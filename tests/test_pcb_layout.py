"""Board layout machinery with the real KiCad: per-slot cells replicated identically and routed
DRC-clean from a synthetic netlist (eFuse-like part, two resistors, a capacitor, an LED per slot,
a management part wired to every slot); pcb.copper and mech.mounting, each with a board broken
on purpose that they catch."""

from __future__ import annotations

import shutil
from collections import defaultdict

import pytest

from pcb import board as board_mod
from pcb import copper as copper_mod
from pcb import netlist, route
from pcb.drc import run_drc
from rackplane.checks import FAIL, PASS, load_all, run_check
from rackplane.context import BuildContext
from tests.pcb_helpers import run_stages, variant

pytestmark = pytest.mark.slow

SOT = "Package_TO_SOT_SMD:SOT-23-6"
R0603 = "Resistor_SMD:R_0603_1608Metric"
C0805 = "Capacitor_SMD:C_0805_2012Metric"
LED = "LED_SMD:LED_0603_1608Metric"
SOIC = "Package_SO:SOIC-8_3.9x4.9mm_P1.27mm"


def synthetic_spec(layout) -> board_mod.BoardSpec:
    """A backplane netlist with a real-looking slot cell, built without SKiDL."""
    conn = netlist.catalogue.slot_connector()
    power_in = netlist.catalogue.load("power")["input_connector"]
    parts = [board_mod.PartSpec(netlist.INPUT_REF, "12 V in", power_in["footprint"], "power_in"),
             board_mod.PartSpec("U1", "monitor", SOIC, "mgmt")]
    nets = defaultdict(list)
    nets["VIN"].append((netlist.INPUT_REF, "1"))
    nets["GND"].append((netlist.INPUT_REF, "2"))
    nets["VIN"].append(("U1", "8"))
    nets["GND"].append(("U1", "4"))
    hole_fp = netlist.mounting_hole_footprint(layout.backplane_hole_d_mm)
    for k, _ in enumerate(layout.backplane_holes_xz_mm, start=1):
        parts.append(board_mod.PartSpec(netlist.hole_ref(k), "hole", hole_fp, "mount"))
    for slot in layout.slots:
        n = slot.index
        g = f"slot:{n}"
        j, u, r1, r2, c, d = (f"J{n}", f"U{100 * n + 1}", f"R{100 * n + 1}", f"R{100 * n + 2}",
                              f"C{100 * n + 1}", f"D{100 * n + 1}")
        parts += [board_mod.PartSpec(j, "socket", conn["backplane_footprint"], g),
                  board_mod.PartSpec(u, "efuse", SOT, g), board_mod.PartSpec(r1, "10k", R0603, g),
                  board_mod.PartSpec(r2, "680", R0603, g), board_mod.PartSpec(c, "10u", C0805, g),
                  board_mod.PartSpec(d, "green", LED, g)]
        nets["VIN"].append((u, "1"))
        nets["GND"] += [(u, "2"), (r1, "2"), (c, "2"), (d, "1")] + [(j, str(p)) for p in (5, 6, 7, 8)]
        nets[f"S{n}_VOUT"] += [(u, "6"), (c, "1")] + [(j, str(p)) for p in (1, 2, 3, 4)]
        nets[f"S{n}_ILIM"] += [(u, "3"), (r1, "1")]
        nets[f"S{n}_LED"] += [(u, "4"), (r2, "1")]
        nets[f"S{n}_LED_K"] += [(r2, "2"), (d, "2")]
        nets[f"S{n}_PRESENT_N"] += [(j, "9"), (u, "5")]
        if n <= 3:
            nets[f"S{n}_FAULT"] += [(j, "11"), ("U1", str(n))]
    return board_mod.BoardSpec(tuple(parts), {k: tuple(v) for k, v in nets.items()})


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    design, layout = variant(slots__count=4)
    out = tmp_path_factory.mktemp("synthetic")
    path = board_mod.build_board(design, layout, None, out, spec=synthetic_spec(layout))
    return design, layout, path, run_drc(path, out / "drc.json")


def test_synthetic_board_is_drc_clean(synthetic):
    _, _, _, drc = synthetic
    assert drc["violations"] == 0, drc["first"]
    assert drc["unconnected"] == 0, drc["first"]


def test_slot_cells_are_identical(synthetic):
    """Every slot's parts and tracks are slot 1's, shifted by the slot's distance."""
    import pcbnew

    _, layout, path, _ = synthetic
    board = pcbnew.LoadBoard(str(path))
    plan = board_mod.json.loads((path.parent / board_mod.PLAN_FILE).read_text())
    cells = {int(k): v for k, v in plan["cells_mm"].items()}

    def content(n):
        u0, v0, u1, v1 = cells[n]
        socket_u = pcbnew.ToMM(board.FindFootprintByReference(f"J{n}").GetPosition().x)
        parts = sorted((fp.GetFPIDAsString(), round(pcbnew.ToMM(fp.GetPosition().x) - socket_u, 3),
                        round(pcbnew.ToMM(fp.GetPosition().y), 3))
                       for fp in board.GetFootprints() if fp.GetReference()[1:].isdigit()
                       and 100 * n < int(fp.GetReference()[1:]) < 100 * (n + 1))
        tracks = sorted((t.GetLayer(), round(pcbnew.ToMM(t.GetStart().x) - socket_u, 3),
                         round(pcbnew.ToMM(t.GetStart().y), 3), round(pcbnew.ToMM(t.GetEnd().x) - socket_u, 3),
                         round(pcbnew.ToMM(t.GetEnd().y), 3))
                        for t in board.GetTracks()
                        if u0 <= pcbnew.ToMM(t.GetStart().x) <= u1 and u0 <= pcbnew.ToMM(t.GetEnd().x) <= u1
                        # the fault lines leave the cell for the management part: routed per slot
                        and ((t.GetNetname().startswith(f"S{n}_") and t.GetNetname() != f"S{n}_FAULT")
                             # rail tracks; the ground stitching vias are on the board's own grid
                             or (t.GetNetname() in ("VIN", "GND") and t.Type() == pcbnew.PCB_TRACE_T)))
        return parts, tracks

    first = content(1)
    assert len(first[0]) == 5 and first[1]
    for slot in layout.slots[1:]:
        assert content(slot.index) == first


def test_synthetic_board_is_deterministic(synthetic, tmp_path):
    design, layout, path, _ = synthetic
    again = board_mod.build_board(design, layout, None, tmp_path, spec=synthetic_spec(layout))
    assert again.read_bytes() == path.read_bytes()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    design, layout = variant(slots__count=4)
    return run_stages(design, layout, tmp_path_factory.mktemp("pcb4"), ("pcb.netlist", "pcb.board", "pcb.carrier_board"))


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
