"""The slot pinout table and the rack <-> board mapping (fast, no external tools)."""

from __future__ import annotations

import dataclasses

import pytest

from pcb import coords, pinout
from rackplane.design import load_design
from rackplane.layout import compute_layout
from rackplane.resolve import resolve_design


@pytest.fixture(scope="module")
def design_and_layout():
    design = resolve_design(load_design())
    return design, compute_layout(design)


def test_pinout_is_sound():
    assert pinout.validate_pinout() == []
    assert len(pinout.SLOT_PINOUT) == pinout.pin_count()
    assert len(pinout.pins_of_kind(pinout.SUPPLY)) == 4
    assert len(pinout.pins_of_kind(pinout.RETURN)) == 4


def test_duplicate_pin_is_reported():
    bad = pinout.SLOT_PINOUT + (dataclasses.replace(pinout.SLOT_PINOUT[0], number=5),)
    problems = pinout.validate_pinout(bad)
    assert any("more than once" in p and "5" in p for p in problems)


def test_reversed_carrier_hazard_is_reported():
    # Put a return pin where supply pin 1 lands when the carrier is turned round (pin 20).
    table = tuple(dataclasses.replace(p, net="GND", kind=pinout.RETURN) if p.number == 20 else p
                  for p in pinout.SLOT_PINOUT)
    hazards = pinout.rotation_hazards(table)
    assert any("rotated" in h and "pin 20" in h for h in hazards)


def test_pin_currents_share_the_slot_current(design_and_layout):
    design, _ = design_and_layout
    slot_a = pinout.slot_supply_current_a(design)
    currents = pinout.pin_currents_a(slot_a)
    supply = sum(currents[p.number] for p in pinout.pins_of_kind(pinout.SUPPLY))
    ground = sum(currents[p.number] for p in pinout.pins_of_kind(pinout.RETURN))
    assert supply == pytest.approx(slot_a)
    assert ground == pytest.approx(slot_a)
    assert all(currents[p.number] == 0 for p in pinout.pins_of_kind(pinout.RESERVED))


def test_board_coordinates_round_trip(design_and_layout):
    _, layout = design_and_layout
    bp = layout.backplane
    assert coords.board_uv_mm(layout, bp.x0, bp.z1) == (0.0, 0.0)
    w, h = coords.board_size_mm(layout)
    assert coords.board_uv_mm(layout, bp.x1, bp.z0) == pytest.approx((w, h))
    for x, z in layout.backplane_holes_xz_mm:
        assert coords.rack_xz_mm(layout, *coords.board_uv_mm(layout, x, z)) == pytest.approx((x, z))
