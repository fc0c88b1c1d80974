"""Every design in designs/ gives DRC-clean boards, backplane, carrier and management board
(kicad-cli: zero violations, zero unconnected items), whose power copper meets IPC-2221, and holes
on the frame's standoffs."""

from __future__ import annotations

from pathlib import Path

import pytest

from rackplane.checks import PASS, load_all, run_check
from rackplane.design import load_design
from rackplane.layout import compute_layout
from rackplane.resolve import resolve_design
from tests.pcb_helpers import run_stages

pytestmark = pytest.mark.slow

DESIGNS = sorted((Path(__file__).resolve().parent.parent / "designs").glob("*.toml"))
STAGES = ("pcb.netlist", "pcb.board", "pcb.drc", "pcb.carrier_board", "pcb.carrier_drc", "pcb.management_board",
          "pcb.management_drc")


@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.stem)
def test_design_boards_pass_drc_copper_and_mounting(path, tmp_path):
    design = resolve_design(load_design(path))
    ctx = run_stages(design, compute_layout(design), tmp_path, STAGES)
    for stage in ("pcb.drc", "pcb.carrier_drc", "pcb.management_drc"):
        drc = ctx.facts[stage]
        assert drc["violations"] == 0 and drc["unconnected"] == 0, (stage, drc["first"])
    checks = load_all()
    for cid in ("pcb.drc", "pcb.copper", "mech.mounting", "pcb.erc"):
        result = run_check(checks[cid], ctx)
        assert result.status == PASS, result.message
