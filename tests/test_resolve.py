"""How "auto" resolves, and what the report says about it: the fan size is the largest that
fits the chassis the sleds need and passes air.flow with the fewest fans."""

from __future__ import annotations

from rackplane import catalogue
from rackplane.airflow import operating_point
from rackplane.design import design_from_table
from rackplane.layout import compute_layout, interior_height_mm
from rackplane.resolve import resolve_with_notes


def resolved(**sections):
    return resolve_with_notes(design_from_table({"name": "x", **sections}))


def test_fan_size_defaults_to_auto_and_every_auto_gets_a_note():
    design, notes = resolved()
    assert design_from_table({"name": "x"})["cooling.fan_size_mm"] == "auto"
    assert set(notes) == {"slots.pitch_mm", "cooling.fan_size_mm", "rack.units", "rack.depth_mm",
                          "cooling.fan_count"}
    assert all(not design.is_auto(k) for k in notes)


def test_auto_picks_the_largest_fitting_size_that_keeps_the_rise():
    design, notes = resolved()
    size = design["cooling.fan_size_mm"]
    room = interior_height_mm(design["rack.units"])
    larger = [s for s in catalogue.fan_sizes() if s > size]
    assert size <= room and all(s > room for s in larger)
    rise = operating_point(design, compute_layout(design)).rise_c
    assert rise <= design["cooling.max_air_rise_c"]
    assert f"{size} mm" in notes["cooling.fan_size_mm"] and "largest" in notes["cooling.fan_size_mm"]


def test_auto_size_follows_the_chassis_the_user_forces():
    assert resolved(rack={"units": 3})[0]["cooling.fan_size_mm"] == 120
    design, notes = resolved(rack={"units": 1})
    assert design["cooling.fan_size_mm"] == min(catalogue.fan_sizes())
    assert "no fan size fits" in notes["cooling.fan_size_mm"]


def test_auto_size_does_not_grow_the_chassis():
    sleds_only, _ = resolved(cooling={"fan_size_mm": 40})
    auto, _ = resolved()
    assert auto["rack.units"] == sleds_only["rack.units"]


def test_a_fixed_size_is_kept_and_the_fewest_fans_are_chosen():
    design, notes = resolved(cooling={"fan_size_mm": 60})
    assert design["cooling.fan_size_mm"] == 60 and "cooling.fan_size_mm" not in notes
    fewer = design.replace(cooling__fan_count=design["cooling.fan_count"] - 1)
    layout = compute_layout(fewer)
    from rackplane.airflow import COVERAGE_LIMIT, slot_coverage

    covered = min(v for _, v in slot_coverage(layout)) >= COVERAGE_LIMIT
    assert not covered or operating_point(fewer, layout).rise_c > design["cooling.max_air_rise_c"]
