"""The management board with the real KiCad: DRC-clean for 1 slot (Pi 5) and 16 slots (Pi 4; the
designs in designs/ are covered by test_designs), its power path wide enough for the rack's current, deterministic,
with fabrication files; pcb.drc and pcb.copper catch boards broken on purpose."""

from __future__ import annotations

import shutil

import pytest

from pcb import board as board_mod
from pcb import checks as pcb_checks
from pcb import management as mgmt
from pcb import management_board as mb
from pcb import management_copper
from pcb.drc import run_drc
from rackplane.checks import FAIL, PASS, load_all, run_check, worst_of
from rackplane.context import BuildContext
from rackplane.stages import STAGES, StageInput, Upstream
from tests.pcb_helpers import gerbers_without_dates, run_stages, variant

pytestmark = pytest.mark.slow

MANAGEMENT_STAGES = ("pcb.netlist", "pcb.management_board", "pcb.management_drc")
SLOT_COUNTS = (1, 16)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    out = {}
    for count in SLOT_COUNTS:
        design, layout = variant(slots__count=count, node__model="pi5" if count == 1 else "pi4b")
        out[count] = run_stages(design, layout, tmp_path_factory.mktemp(f"mgmt{count}"), MANAGEMENT_STAGES)
    return out


@pytest.mark.parametrize("count", SLOT_COUNTS)
def test_management_board_is_drc_clean(builds, count):
    drc = builds[count].facts["pcb.management_drc"]
    assert drc["violations"] == 0, drc["first"]
    assert drc["unconnected"] == 0, drc["first"]


@pytest.mark.parametrize("count", SLOT_COUNTS)
def test_power_path_carries_the_rack_current(builds, count):
    """Every power path's narrowest copper, measured on the saved board, is at least IPC-2221's
    width for the rack's full-load current; the board's drop is recorded."""
    facts = builds[count].facts["pcb.management_board"]
    copper = facts["copper"]
    assert copper["current_a"] == pytest.approx(facts["plan"]["current_a"])
    assert {p["rule"] for p in copper["paths"]} == {p.rule for p in management_copper.power_paths(("Q1",))}
    for path in copper["paths"]:
        assert "error" not in path, path
        assert path["narrowest_mm"] >= path["needed_mm"], path
    assert 0 < copper["drop_v"] < 0.1


def test_more_current_takes_more_fets_and_a_wider_band(builds):
    small, large = (builds[c].facts["pcb.management_board"]["plan"] for c in SLOT_COUNTS)
    assert large["current_a"] > 5 * small["current_a"]
    assert len(large["fets"]) > len(small["fets"]) >= 1
    assert large["band_height_mm"] > small["band_height_mm"]
    for plan in (small, large):
        assert len(plan["fets"]) == mgmt.power_fet_count(builds[1].design, plan["current_a"])
        assert plan["band_height_mm"] >= plan["band_wanted_mm"]


def test_board_is_byte_identical_across_runs(builds, tmp_path):
    from pcb.electrical import power_budget

    ctx = builds[1]
    facts = ctx.facts["pcb.netlist"]
    again = mb.build_management(ctx.design, ctx.layout, ctx.path("pcb.netlist", facts["board_files"]["management_netlist"]),
                                tmp_path, power_budget(ctx.design, ctx.layout), part_facts=facts["management_parts"])
    assert again.read_bytes() == ctx.path("pcb.management_board", mb.BOARD_FILE).read_bytes()


def test_fab_writes_gerbers_drill_and_step_the_same_every_time(builds, tmp_path):
    ctx = builds[1]
    spec = STAGES["pcb.management_fab"]
    assert spec.for_checks is False
    ups = {"pcb.management_board": Upstream(ctx.facts["pcb.management_board"], ctx.stage_dirs["pcb.management_board"])}
    facts = spec.func(StageInput(ctx.design, ctx.layout, tmp_path, ups))
    assert (tmp_path / facts["gerber_zip"]).stat().st_size > 1000
    for layer in ("CuTop", "CuBottom", "EdgeCuts", "PTH.drl"):
        assert any(layer in n for n in facts["files"]), layer
    for kind in ("step", "placement", "bom"):
        assert (tmp_path / facts["outputs"][kind]).stat().st_size > 0, kind
    assert set(facts["outputs"]["renders"]) == {"top", "bottom"}
    again = spec.func(StageInput(ctx.design, ctx.layout, tmp_path / "again", ups))
    first, second = (gerbers_without_dates(d / f["gerber_zip"]) for d, f in ((tmp_path, facts),
                                                                               (tmp_path / "again", again)))
    assert first == second and any(name.endswith(".gtl") for name in first)


def _doctored(ctx, tmp_path, edit):
    """A copy of the built management board changed by `edit(board)`, refilled."""
    import pcbnew

    src = ctx.path("pcb.management_board", mb.BOARD_FILE)
    for sibling in src.parent.glob(src.stem + ".kicad_*"):
        shutil.copy2(sibling, tmp_path / sibling.name)
    path = tmp_path / src.name
    board = pcbnew.LoadBoard(str(path))
    edit(board)
    pcbnew.SaveBoard(str(path), board)
    board_mod.fill_zones(path)
    return path


def test_drc_check_catches_a_cut_track(builds, tmp_path):
    """A signal track removed: kicad-cli reports the unconnected pads and pcb.drc fails, naming
    the management board."""
    import pcbnew

    ctx = builds[1]

    def cut(board):
        track = next(t for t in board.GetTracks() if t.GetNetname() == "FAN1_PWM" and t.Type() == pcbnew.PCB_TRACE_T)
        board.Remove(track)

    drc = run_drc(_doctored(ctx, tmp_path, cut), tmp_path / "drc.json")
    assert drc["unconnected"] > 0
    clean = {"violations": 0, "unconnected": 0, "by_type": {}, "first": []}
    broken = BuildContext(ctx.design, ctx.layout, facts={"pcb.drc": clean, "pcb.carrier_drc": clean,
                                                          "pcb.management_drc": drc})
    result = run_check(load_all()["pcb.drc"], broken)
    assert result.status == FAIL
    assert f"management {drc['violations']} + {drc['unconnected']}" in result.message
    assert "unconnected" in result.message and "FAN1_PWM" in result.message


def test_copper_check_catches_a_narrow_supply_pour(builds, tmp_path):
    """The supply-in pour cut down to a strip along the band's top: measured on the saved board,
    the path is narrower than IPC-2221 asks, and pcb.copper's rule for it fails."""
    import pcbnew

    ctx = builds[16]
    plan = ctx.facts["pcb.management_board"]["plan"]
    u0, v0, u1, v1 = plan["pours_mm"]["VIN_RAW"]

    def narrow(board):
        zone = next(z for z in board.Zones() if z.GetNetname() == "VIN_RAW")
        outline = zone.Outline()
        outline.RemoveAllContours()
        outline.NewOutline()
        for u, v in ((u0, v0), (u1, v0), (u1, v1), (u1 - 4.0, v1), (u1 - 4.0, v0 + 3.0), (u0, v0 + 3.0)):
            outline.Append(pcbnew.FromMM(u), pcbnew.FromMM(v))

    path = _doctored(ctx, tmp_path, narrow)
    copper = management_copper.measure_management(ctx.design, path, plan["current_a"])
    supply = next(p for p in copper["paths"] if p["net"] == "VIN_RAW")
    assert supply["narrowest_mm"] < supply["needed_mm"]
    broken = BuildContext(ctx.design, ctx.layout, facts={"pcb.management_board": {"copper": copper}})
    result = worst_of("pcb.copper", pcb_checks._path_copper_rules(broken, "management", "pcb.management_board"))
    assert result.status == FAIL
    assert "management supply-in width" in result.message and "VIN_RAW" in result.parts
    good = BuildContext(ctx.design, ctx.layout, facts={"pcb.management_board": ctx.facts["pcb.management_board"]})
    assert worst_of("pcb.copper", pcb_checks._path_copper_rules(good, "management", "pcb.management_board")).status \
        == PASS
