"""The backplane netlist that the board lays out, with the real SKiDL: deterministic, ERC-clean,
and pcb.erc catches a short."""

from __future__ import annotations

import dataclasses
import re

import pytest

from pcb import electrical, netlist, pinout
from rackplane.checks import FAIL, PASS, load_all, run_check
from rackplane.context import BuildContext
from tests.pcb_helpers import run_stages, variant


@pytest.fixture(scope="module")
def default_ctx(tmp_path_factory):
    design, layout = variant()
    return run_stages(design, layout, tmp_path_factory.mktemp("netlist"), ("pcb.netlist",))


def test_netlist_is_byte_identical_across_runs(tmp_path, default_ctx):
    electrical.write_boards(default_ctx.design, default_ctx.layout, tmp_path)
    for name in (electrical.BACKPLANE_NET, electrical.MANAGEMENT_NET):
        assert default_ctx.path("pcb.netlist", name).read_bytes() == (tmp_path / name).read_bytes()


def test_netlist_has_every_part_with_value_and_footprint(default_ctx):
    facts = default_ctx.facts["pcb.netlist"]
    layout = default_ctx.layout
    text = default_ctx.path("pcb.netlist", electrical.BACKPLANE_NET).read_text()
    count = facts["backplane_part_count"]
    assert len(re.findall(r"\(comp\s", text)) == count
    assert len(re.findall(r'\(footprint "[^"]+:[^"]+"\)', text)) == count
    assert '(value "")' not in text.split("(components", 1)[1]
    parts, nets = netlist.read_netlist(default_ctx.path("pcb.netlist", electrical.BACKPLANE_NET))
    refs = {p.ref for p in parts}
    for slot in layout.slots:
        assert netlist.slot_ref(slot.index) in refs
    assert {n.name for n in nets} >= {"VIN", "GND", "+3V3", "MGMT_SDA", "MGMT_SCL", "MGMT_INT_N"}


def test_erc_passes_on_the_default_design(default_ctx):
    result = run_check(load_all()["pcb.erc"], default_ctx)
    assert result.status == PASS, result.message
    assert result.value == 0


def test_erc_catches_a_pinout_that_shorts_vin_to_gnd(tmp_path):
    """A table that lists return pin 5 a second time as a supply pin ties a slot's fused 12 V to
    ground: the eFuse's output meets the ground rail."""
    design, layout = variant(slots__count=2)
    gnd_pin = pinout.pins_of_kind(pinout.RETURN)[0]
    supply = pinout.pins_of_kind(pinout.SUPPLY)[0]
    bad = pinout.SLOT_PINOUT + (dataclasses.replace(supply, number=gnd_pin.number),)
    facts = electrical.write_boards(design, layout, tmp_path, slot_pinout=bad)
    ctx = BuildContext(design, layout, facts={"pcb.netlist": facts}, stage_dirs={"pcb.netlist": tmp_path})
    result = run_check(load_all()["pcb.erc"], ctx)
    assert result.status == FAIL
    assert result.value >= 1
    assert "U101" in result.parts or "U201" in result.parts


def test_erc_check_without_facts_is_an_error():
    design, layout = variant(slots__count=1)
    ctx = BuildContext(design, layout, facts={"pcb.netlist": {}})
    assert run_check(load_all()["pcb.erc"], ctx).status == "error"
