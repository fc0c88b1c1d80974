"""The backplane netlist with the real SKiDL: deterministic, ERC-clean, and pcb.erc catches a short."""

from __future__ import annotations

import dataclasses
import re

import pytest

from pcb import netlist, pinout
from rackplane.checks import FAIL, PASS, load_all, run_check
from rackplane.context import BuildContext
from tests.pcb_helpers import run_stages, variant


@pytest.fixture(scope="module")
def default_ctx(tmp_path_factory):
    design, layout = variant()
    return run_stages(design, layout, tmp_path_factory.mktemp("netlist"), ("pcb.netlist",))


def test_netlist_is_byte_identical_across_runs(tmp_path, default_ctx):
    design, layout = default_ctx.design, default_ctx.layout
    netlist.write_backplane_netlist(design, layout, tmp_path / "again")
    first = default_ctx.path("pcb.netlist", netlist.NETLIST_FILE).read_bytes()
    second = (tmp_path / "again" / netlist.NETLIST_FILE).read_bytes()
    assert first == second


def test_netlist_has_every_part_with_value_and_footprint(default_ctx):
    facts = default_ctx.facts["pcb.netlist"]
    layout = default_ctx.layout
    expected = len(layout.slots) + len(layout.backplane_holes_xz_mm) + 1
    assert facts["part_count"] == expected
    assert facts["net_names"] == ["GND", "VIN"]
    text = default_ctx.path("pcb.netlist", netlist.NETLIST_FILE).read_text()
    assert len(re.findall(r"\(comp\s", text)) == expected
    assert len(re.findall(r'\(footprint "[^"]+:[^"]+"\)', text)) == expected
    assert '(value "")' not in text.split("(components", 1)[1]
    for slot in layout.slots:
        assert netlist.slot_ref(slot.index) in facts["parts"]


def test_erc_passes_on_the_default_design(default_ctx):
    facts = default_ctx.facts["pcb.netlist"]
    assert facts["erc_errors"] == 0
    result = run_check(load_all()["pcb.erc"], default_ctx)
    assert result.status == PASS, result.message
    assert result.value == 0


def test_erc_catches_a_pinout_that_shorts_vin_to_gnd(tmp_path):
    """A table that lists return pin 5 a second time as a supply pin ties VIN to GND: the input
    terminal's two power outputs meet on one net."""
    design, layout = variant(slots__count=2)
    gnd_pin = pinout.pins_of_kind(pinout.RETURN)[0]
    supply = pinout.pins_of_kind(pinout.SUPPLY)[0]
    bad = pinout.SLOT_PINOUT + (dataclasses.replace(supply, number=gnd_pin.number),)
    facts = netlist.write_backplane_netlist(design, layout, tmp_path, slot_pinout=bad)
    ctx = BuildContext(design, layout, facts={"pcb.netlist": facts}, stage_dirs={"pcb.netlist": tmp_path})
    result = run_check(load_all()["pcb.erc"], ctx)
    assert result.status == FAIL
    assert result.value >= 1
    assert netlist.INPUT_REF in result.parts
    assert "POWER-OUT" in result.message


def test_erc_check_without_facts_is_an_error():
    design, layout = variant(slots__count=1)
    ctx = BuildContext(design, layout, facts={"pcb.netlist": {}})
    assert run_check(load_all()["pcb.erc"], ctx).status == "error"
