"""A split backplane: identical module boards chained by link terminals. The module board is
DRC-clean and its holes sit on the frame's standoffs in every module; pcb.copper measures every
module and the chain, and catches a chain that loads the module copper beyond IPC-2221."""

from __future__ import annotations

import pytest

from pcb import copper as copper_mod
from pcb import backplane, netlist
from rackplane.checks import FAIL, PASS, load_all, run_check
from rackplane.context import BuildContext
from tests.pcb_helpers import run_stages, variant, with_management

pytestmark = pytest.mark.slow

STAGES = ("pcb.netlist", "pcb.board", "pcb.drc", "pcb.carrier_board", "pcb.carrier_drc")


@pytest.fixture(scope="module")
def split(tmp_path_factory, management_default):
    design, layout = variant(slots__count=10, pcb__max_board_length_mm=150.0)
    assert layout.is_split
    return with_management(run_stages(design, layout, tmp_path_factory.mktemp("modules"), STAGES), management_default)


def test_module_board_is_drc_clean_and_carries_its_links(split):
    drc = split.facts["pcb.drc"]
    assert drc["violations"] == 0 and drc["unconnected"] == 0, drc["first"]
    facts = split.facts["pcb.board"]
    refs = {c["ref"] for c in facts["connectors"]}
    k = split.layout.module_slots
    assert refs >= {netlist.slot_ref(i) for i in range(1, k + 1)} | {netlist.LINK_IN_REF, netlist.LINK_OUT_REF}
    assert backplane.BUS_REF in refs and netlist.INPUT_REF not in refs
    assert [m["slots"] for m in facts["modules"]] == [list(m.slot_indices) for m in split.layout.backplane_modules]
    first = split.layout.backplane_modules[0].box
    assert facts["board_size_mm"][0] == pytest.approx(first.x1 - first.x0)


def test_every_module_and_the_chain_pass_their_checks(split):
    checks = load_all()
    for cid in ("pcb.drc", "pcb.copper", "mech.mounting"):
        result = run_check(checks[cid], split)
        assert result.status == PASS, result.message
    copper = split.facts["pcb.board"]["copper"]
    assert copper["modules"] == 2
    assert sorted({r["module"] for r in copper["rails"]}) == [1, 2]
    # the supply lands on the link between the modules: each carries its own half
    assert copper["supply_at"] == f"module 1 {netlist.LINK_OUT_REF} and module 2 {netlist.LINK_IN_REF}"
    holes = split.facts["pcb.board"]["holes"]
    assert len(holes) == len(split.layout.backplane_holes_xz_mm)


def test_copper_catches_a_chain_too_long_for_the_module_copper(split):
    """The same module board measured as the first of a chain of eight: the current of the
    modules beyond runs through its band, more than IPC-2221 allows for its width."""
    board = split.path("pcb.board", "backplane.kicad_pcb")
    k = split.layout.module_slots
    facts = dict(split.facts["pcb.board"])
    facts["copper"] = copper_mod.measure_board(split.design, split.layout.module_board(), board, (k,) * 8)
    ctx = BuildContext(split.design, split.layout, facts={**split.facts, "pcb.board": facts},
                       stage_dirs=split.stage_dirs)
    result = run_check(load_all()["pcb.copper"], ctx)
    assert result.status == FAIL, result.message
    assert "module" in result.message and ({"VIN", "GND"} & set(result.parts))
